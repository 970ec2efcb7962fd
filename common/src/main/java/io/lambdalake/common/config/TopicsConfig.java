package io.lambdalake.common.config;

import static io.lambdalake.common.config.Checks.checkNotBlank;
import static io.lambdalake.common.config.Checks.checkPositive;

/** Kafka topic names and how new topics are created. */
public record TopicsConfig(
    String eventsPrefix,
    String eventsOther,
    String eventsQuarantine,
    String cdcMaxwellPrefix,
    String cdcMongoPrefix,
    int partitions,
    int replicationFactor) {
  public TopicsConfig {
    checkNotBlank(eventsPrefix, "lake.topics.events-prefix");
    checkNotBlank(eventsOther, "lake.topics.events-other");
    checkNotBlank(eventsQuarantine, "lake.topics.events-quarantine");
    checkNotBlank(cdcMaxwellPrefix, "lake.topics.cdc-maxwell-prefix");
    checkNotBlank(cdcMongoPrefix, "lake.topics.cdc-mongo-prefix");
    checkPositive(partitions, "lake.topics.partitions");
    checkPositive(replicationFactor, "lake.topics.replication-factor");
  }

  /** The topic Maxwell writes a source table's changes to. */
  public String maxwellTopic(String database, String table) {
    return cdcMaxwellPrefix
        + checkNotBlank(database, "database")
        + "."
        + checkNotBlank(table, "table");
  }
}
