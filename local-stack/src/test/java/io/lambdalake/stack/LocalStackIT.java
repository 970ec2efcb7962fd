package io.lambdalake.stack;

import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.stack.testing.SharedStack;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The stack answers, and bringing it up again while it runs starts nothing. */
class LocalStackIT {
  @Test
  void everyServerRunsAndAnswers() {
    List<LocalStack.ServerStatus> statuses = SharedStack.get().status();

    List<String> core =
        List.of(
            "s3proxy", "kafka", "mariadb", "metastore", "trino", "maxwell", "ddl-relay", "airflow");
    // The Spark cluster is listed only once started (scripts/stack up --with-spark-cluster).
    List<String> listed =
        statuses.stream()
            .map(LocalStack.ServerStatus::name)
            .filter(name -> !SparkStandaloneServer.names().contains(name))
            .toList();
    assertThat(listed).containsExactlyInAnyOrderElementsOf(core);
    assertThat(statuses).allSatisfy(status -> assertThat(status.problem()).isEmpty());
    assertThat(statuses).allSatisfy(status -> assertThat(status.pid()).isPresent());
  }

  @Test
  void upAgainIsHarmless() {
    LocalStack stack = SharedStack.get();
    List<Long> pidsBefore = pids(stack);

    try (LocalStack again = new LocalStack(stack.config(), stack.layout().confDirectory())) {
      List<LocalStack.ServerReport> reports = again.up(report -> {});

      assertThat(reports).noneMatch(LocalStack.ServerReport::started);
    }
    // Closing the second instance stopped nothing, since it started nothing.
    assertThat(pids(stack)).isEqualTo(pidsBefore);
  }

  private static List<Long> pids(LocalStack stack) {
    return stack.status().stream().map(status -> status.pid().orElse(-1L)).toList();
  }
}
