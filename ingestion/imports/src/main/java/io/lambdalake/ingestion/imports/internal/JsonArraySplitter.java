package io.lambdalake.ingestion.imports.internal;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts the text of a JSON array ({@code mongoexport --jsonArray}) into the text of its elements,
 * each with the line it starts on, without parsing them: an element that is not valid JSON is then
 * quarantined alone, with its line, instead of failing the whole file.
 */
public final class JsonArraySplitter {
  private JsonArraySplitter() {}

  /** One element: its text and the 1-based line it starts on. */
  public record Element(String text, long line) {
    public Element {
      requireNonNull(text, "text is null");
    }
  }

  /**
   * The elements of the array. Text that is not a well-formed array (unbalanced brackets, text
   * after the closing bracket) ends as a last element holding the rest, which then fails to parse.
   */
  public static List<Element> split(String text) {
    List<Element> elements = new ArrayList<>();
    int length = text.length();
    long line = 1;
    int index = 0;
    while (index < length && Character.isWhitespace(text.charAt(index))) {
      line += text.charAt(index) == '\n' ? 1 : 0;
      index++;
    }
    if (index >= length || text.charAt(index) != '[') {
      throw new IllegalArgumentException("not a JSON array");
    }
    index++;
    int depth = 0;
    boolean inString = false;
    boolean escaped = false;
    int start = -1;
    long startLine = line;
    for (; index < length; index++) {
      char character = text.charAt(index);
      if (start < 0) {
        if (Character.isWhitespace(character) || (character == ',' && depth == 0)) {
          line += character == '\n' ? 1 : 0;
          continue;
        }
        if (character == ']' && depth == 0) {
          String rest = text.substring(index + 1).strip();
          if (!rest.isEmpty()) {
            elements.add(new Element(rest, line));
          }
          return elements;
        }
        start = index;
        startLine = line;
      }
      if (character == '\n') {
        line++;
      }
      if (inString) {
        if (escaped) {
          escaped = false;
        } else if (character == '\\') {
          escaped = true;
        } else if (character == '"') {
          inString = false;
        }
        continue;
      }
      switch (character) {
        case '"' -> inString = true;
        case '{', '[' -> depth++;
        case '}', ']' -> {
          depth--;
          if (depth < 0) {
            // The array's closing bracket right after an element without a comma.
            elements.add(new Element(text.substring(start, index).strip(), startLine));
            start = -1;
            depth = 0;
            String rest = text.substring(index + 1).strip();
            if (!rest.isEmpty()) {
              elements.add(new Element(rest, line));
            }
            return elements;
          }
        }
        case ',' -> {
          if (depth == 0) {
            elements.add(new Element(text.substring(start, index).strip(), startLine));
            start = -1;
          }
        }
        default -> {}
      }
    }
    if (start >= 0) {
      // No closing bracket: the unfinished element is kept, and will not parse.
      elements.add(new Element(text.substring(start).strip(), startLine));
    }
    return elements;
  }
}
