package io.lambdalake.common.config;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Change data capture ({@code lake cdc}).
 *
 * @param mongoPromotedFields per MongoDB collection ({@code <database>.<collection>}), the
 *     top-level fields its mirror keeps as columns beside the document, each with its Spark SQL
 *     type (e.g. {@code DECIMAL(18,2)})
 * @param compactEveryBatches the CDC job compacts (Delta OPTIMIZE) a table it writes once it has
 *     written it in this many micro-batches since the last compaction, one table per batch; 0 never
 */
public record CdcConfig(
    Map<String, Map<String, String>> mongoPromotedFields, int compactEveryBatches) {
  public CdcConfig {
    requireNonNull(mongoPromotedFields, "mongoPromotedFields is null");
    if (compactEveryBatches < 0) {
      throw Checks.invalid(
          "lake.cdc.compact-every-batches",
          Integer.toString(compactEveryBatches),
          "0 (never) or a positive number of micro-batches");
    }
    Map<String, Map<String, String>> copy = new LinkedHashMap<>();
    mongoPromotedFields.forEach(
        (collection, fields) -> {
          if (collection.indexOf('.') <= 0 || collection.endsWith(".")) {
            throw Checks.invalid(
                "lake.cdc.mongo.promoted-fields", collection, "<database>.<collection> keys");
          }
          fields.forEach(
              (field, type) ->
                  Checks.checkNotBlank(type, "lake.cdc.mongo.promoted-fields." + field));
          copy.put(collection, Collections.unmodifiableMap(new LinkedHashMap<>(fields)));
        });
    mongoPromotedFields = Collections.unmodifiableMap(copy);
  }
}
