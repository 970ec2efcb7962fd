package io.lambdalake.ingestion.imports.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.ingestion.imports.internal.JsonArraySplitter.Element;
import org.junit.jupiter.api.Test;

class JsonArraySplitterTest {
  @Test
  void elementsWithTheLineTheyStartOn() {
    String text =
        "[{\"_id\":{\"$oid\":\"5f1d7e\"},\"a\":\"x, ] }\"},\n"
            + "{\"b\":[1,2,{\"c\":\"\\\"\"}]},\n"
            + "\n"
            + "  {\"d\":\n1}\n"
            + "]\n";

    assertThat(JsonArraySplitter.split(text))
        .containsExactly(
            new Element("{\"_id\":{\"$oid\":\"5f1d7e\"},\"a\":\"x, ] }\"}", 1),
            new Element("{\"b\":[1,2,{\"c\":\"\\\"\"}]}", 2),
            new Element("{\"d\":\n1}", 4));
  }

  @Test
  void brokenElementsAreKeptToBeQuarantined() {
    assertThat(JsonArraySplitter.split("[{\"a\":1},\n{\"b\":\n"))
        .containsExactly(new Element("{\"a\":1}", 1), new Element("{\"b\":", 2));
    assertThat(JsonArraySplitter.split("[{\"a\":1}] trailing"))
        .containsExactly(new Element("{\"a\":1}", 1), new Element("trailing", 1));
    assertThat(JsonArraySplitter.split("[]")).isEmpty();
  }
}
