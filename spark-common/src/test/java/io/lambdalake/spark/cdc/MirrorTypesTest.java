package io.lambdalake.spark.cdc;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;

class MirrorTypesTest {
  @Test
  void widensOnlyWhereEveryValueOfTheColumnStillFits() {
    assertThat(MirrorTypes.widens(DataTypes.IntegerType, DataTypes.LongType)).isTrue();
    assertThat(MirrorTypes.widens(DataTypes.FloatType, DataTypes.DoubleType)).isTrue();
    assertThat(MirrorTypes.widens(DataTypes.DateType, DataTypes.TimestampNTZType)).isTrue();
    assertThat(
            MirrorTypes.widens(
                DataTypes.createDecimalType(10, 2), DataTypes.createDecimalType(12, 2)))
        .isTrue();
    assertThat(MirrorTypes.widens(DataTypes.IntegerType, DataTypes.createDecimalType(12, 2)))
        .isTrue();

    assertThat(MirrorTypes.widens(DataTypes.LongType, DataTypes.IntegerType)).isFalse();
    assertThat(MirrorTypes.widens(DataTypes.IntegerType, DataTypes.StringType)).isFalse();
    assertThat(MirrorTypes.widens(DataTypes.LongType, DataTypes.LongType)).isFalse();
    assertThat(
            MirrorTypes.widens(
                DataTypes.createDecimalType(10, 2), DataTypes.createDecimalType(10, 4)))
        .as("fewer digits before the point")
        .isFalse();
    assertThat(MirrorTypes.widens(DataTypes.LongType, DataTypes.createDecimalType(12, 0)))
        .isFalse();
  }
}
