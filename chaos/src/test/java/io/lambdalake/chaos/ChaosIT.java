package io.lambdalake.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.stack.testing.TestSpark;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Each scenario of {@code scripts/chaos}, run once as a test: the fault, the restart, and then
 * nothing lost, duplicated or diverged. Slow (minutes each, jobs in JVMs of their own) and
 * disruptive by design: the {@code fault} tier of {@code scripts/test --all}.
 */
@Tag("fault")
class ChaosIT {
  private static final int EVENTS = 4_000;

  @Test
  void killLanding() throws Exception {
    assertClean(new KillLanding(EVENTS));
  }

  @Test
  void killSpeedViews() throws Exception {
    assertClean(new KillSpeedViews(EVENTS));
  }

  @Test
  void killMaxwellCdc() throws Exception {
    assertClean(new KillMaxwellCdc(200));
  }

  @Test
  void killBatch() throws Exception {
    assertClean(new KillBatch(EVENTS));
  }

  @Test
  void killMongoCdc() throws Exception {
    assertClean(new KillMongoCdc(200));
  }

  @Test
  void lateEvents() throws Exception {
    assertClean(new LateEvents(EVENTS));
  }

  @Test
  void nightlyAndBackfill() throws Exception {
    assertClean(new NightlyAndBackfill(EVENTS));
  }

  @Test
  void ddlUnderLoad() throws Exception {
    assertClean(new DdlUnderLoad(200));
  }

  @Test
  void ddlRenameUnderLoad() throws Exception {
    assertClean(new DdlRenameUnderLoad(200));
  }

  @Test
  void killSpam() throws Exception {
    assertClean(new KillSpam(2));
  }

  @Test
  void airflowStoppedBackfill() throws Exception {
    // An Airflow of its own: it kills that one, never the stack's.
    assertClean(new AirflowStoppedBackfill(1_000));
  }

  // The scenarios below stop a server of the stack the test runs against, which must be a stack
  // of the test run's own (scripts/test --all starts one; never a shared stack).

  @Test
  void kafkaStopped() throws Exception {
    assertClean(new KafkaStopped(1_000));
  }

  @Test
  void s3StoppedLanding() throws Exception {
    assertClean(new S3StoppedLanding(EVENTS));
  }

  @Test
  void s3StoppedBatch() throws Exception {
    assertClean(new S3StoppedBatch(EVENTS));
  }

  @Test
  void trinoStoppedApi() throws Exception {
    assertClean(new TrinoStoppedApi(400));
  }

  private static void assertClean(Scenario scenario) throws Exception {
    ChaosRun run =
        ChaosRun.create(scenario.name(), TestSpark.session(), Path.of("target/chaos-logs"));
    assertThat(scenario.run(run))
        .as("%s (job logs %s*)", scenario.name(), run.log(""))
        .isEqualTo(Tally.CLEAN);
  }
}
