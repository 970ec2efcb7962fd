package io.lambdalake.stack;

import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AirflowServerTest {
  private static final Path CONF = Path.of("..", "conf").toAbsolutePath().normalize();

  @TempDir Path home;

  @Test
  void sparkSubmitsDriverStaysOnLoopbackOnlyForALocalMaster() throws IOException {
    assertThat(environment("local[2]")).containsEntry("SPARK_LOCAL_IP", "127.0.0.1");
    assertThat(environment("spark://10.0.0.5:7077")).doesNotContainKey("SPARK_LOCAL_IP");
    assertThat(environment("yarn")).doesNotContainKey("SPARK_LOCAL_IP");
  }

  @Test
  void sparkTasksSendTheirRunRecordsToTheLakesBucket() throws IOException {
    assertThat(environment("local[2]"))
        .containsEntry("AIRFLOW_VAR_LAKE_RUNS_URL", "s3a://lake/airflow-runs");
  }

  /** The environment of Airflow's processes, whose tasks run spark-submit, for this master. */
  private Map<String, String> environment(String master) throws IOException {
    LakeConfig config =
        LakeConfigLoader.load(
            Map.of(LakeConfigLoader.CONF_DIRECTORY_VARIABLE, CONF.toString()),
            Map.of("lake.spark.master", master));
    Files.writeString(home.resolve("secret"), "0123");
    AirflowServer airflow =
        new AirflowServer(
            config, new StackLayout(home.resolve("local"), CONF), home, home.resolve("venv"));
    return airflow.environment();
  }
}
