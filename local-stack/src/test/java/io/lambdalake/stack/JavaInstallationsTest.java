package io.lambdalake.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lambdalake.common.error.LakeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JavaInstallationsTest {
  @Test
  void readsTheFeatureVersionFromTheReleaseFile(@TempDir Path home) throws IOException {
    Files.writeString(
        home.resolve("release"),
        "IMPLEMENTOR=\"Eclipse Adoptium\"\nJAVA_RUNTIME_VERSION=\"25.0.3+9-LTS\"\n"
            + "JAVA_VERSION=\"25.0.3\"\n");

    assertThat(JavaInstallations.featureVersion(home)).contains(25);
  }

  @Test
  void anOldConfiguredJdkIsRefusedWithItsVersion(@TempDir Path home) throws IOException {
    Files.writeString(home.resolve("release"), "JAVA_VERSION=\"17.0.15\"\n");

    assertThatThrownBy(() -> JavaInstallations.forTrino(Optional.of(home.toString())))
        .isInstanceOf(LakeException.class)
        .hasMessage(
            "LAKE_TRINO_JAVA_HOME="
                + home
                + " is not a JDK 24+ (found version 17); Trino needs one");
  }

  @Test
  void aConfiguredJdkThatIsNewEnoughIsUsed(@TempDir Path home) throws IOException {
    Files.writeString(home.resolve("release"), "JAVA_VERSION=\"24.0.1\"\n");

    assertThat(JavaInstallations.forTrino(Optional.of(home.toString()))).isEqualTo(home);
  }
}
