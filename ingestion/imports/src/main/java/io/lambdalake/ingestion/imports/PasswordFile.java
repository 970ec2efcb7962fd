package io.lambdalake.ingestion.imports;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sqoop's {@code --password-file}: the password is the file's content. Unlike Sqoop, one trailing
 * line break (which most editors add) is not part of it.
 */
final class PasswordFile {
  private static final Logger LOG = LoggerFactory.getLogger(PasswordFile.class);

  private PasswordFile() {}

  static String read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT, "--password-file " + file + " does not exist or is no file");
    }
    try {
      warnIfOthersCanRead(file);
      String content = Files.readString(file, StandardCharsets.UTF_8);
      if (content.endsWith("\r\n")) {
        content = content.substring(0, content.length() - 2);
      } else if (content.endsWith("\n")) {
        content = content.substring(0, content.length() - 1);
      }
      if (content.isEmpty()) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT, "--password-file " + file + " is empty");
      }
      return content;
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT,
          "Cannot read --password-file " + file + ": " + e.getMessage(),
          e);
    }
  }

  private static void warnIfOthersCanRead(Path file) throws IOException {
    try {
      Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
      if (permissions.contains(PosixFilePermission.GROUP_READ)
          || permissions.contains(PosixFilePermission.OTHERS_READ)) {
        LOG.warn("--password-file {} can be read by other users: chmod 600 it", file);
      }
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system: nothing to check.
    }
  }
}
