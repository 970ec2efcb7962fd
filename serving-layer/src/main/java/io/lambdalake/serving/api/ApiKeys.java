package io.lambdalake.serving.api;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.ApiConfig;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The API keys: each is 32 random bytes, shown once when created; configuration holds only its
 * SHA-256. A key is random and long, so a fast hash is enough: nobody can guess a key from its hash
 * or try keys faster than the API answers.
 */
public final class ApiKeys {
  private static final String PREFIX = "llk_";
  private static final SecureRandom RANDOM = new SecureRandom();
  private final Map<String, ApiConfig.Key> byHash;

  public ApiKeys(List<ApiConfig.Key> keys) {
    this.byHash =
        keys.stream()
            .collect(Collectors.toUnmodifiableMap(ApiConfig.Key::keyHash, Function.identity()));
  }

  /** The key a request presents, if it is one of ours. */
  public Optional<ApiConfig.Key> find(String presentedKey) {
    requireNonNull(presentedKey, "presentedKey is null");
    if (presentedKey.isEmpty() || presentedKey.length() > 256) {
      return Optional.empty();
    }
    return Optional.ofNullable(byHash.get(hash(presentedKey)));
  }

  public int size() {
    return byHash.size();
  }

  /** {@code sha256:<hex>} of a key, as configuration stores it. */
  public static String hash(String key) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      return "sha256:" + HexFormat.of().formatHex(digest.digest(key.getBytes(UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("Every Java runtime has SHA-256", e);
    }
  }

  /** A new random key: {@code llk_} and 43 URL-safe characters (256 bits). */
  public static String generate() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
