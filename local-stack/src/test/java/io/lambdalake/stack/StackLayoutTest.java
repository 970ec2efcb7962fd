package io.lambdalake.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StackLayoutTest {
  @Test
  void aMissingClassPathSaysHowToResolveIt(@TempDir Path local) {
    StackLayout layout = new StackLayout(local, local.resolve("conf"));

    assertThatThrownBy(() -> layout.classPath("kafka"))
        .isInstanceOf(LakeException.class)
        .hasMessage(
            "The kafka distribution is not resolved ("
                + local.resolve("dist/kafka.classpath")
                + " is missing or stale): run scripts/stack up, which resolves it from Maven Central")
        .extracting(error -> ((LakeException) error).errorCode())
        .isEqualTo(ErrorCode.SERVER_DISTRIBUTION_MISSING);
  }

  @Test
  void aClassPathNamingDeletedJarsIsStale(@TempDir Path local) throws IOException {
    StackLayout layout = new StackLayout(local, local.resolve("conf"));
    Path jar = Files.createFile(local.resolve("present.jar"));
    Files.createDirectories(local.resolve("dist"));
    Files.writeString(local.resolve("dist/kafka.classpath"), jar + ":" + local.resolve("gone.jar"));

    assertThatThrownBy(() -> layout.classPath("kafka")).hasMessageContaining("missing or stale");

    Files.writeString(local.resolve("dist/kafka.classpath"), jar.toString());
    assertThat(layout.classPath("kafka")).isEqualTo(jar.toString());
  }
}
