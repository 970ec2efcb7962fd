package jdk.nashorn.api.scripting;

/**
 * Stands in for the Nashorn class that Java 15 removed. Maxwell 1.22 names it in its JavaScript
 * filter support, so without it Maxwell fails at its first row on Java 17. Only the methods Maxwell
 * calls exist, and they refuse: JavaScript filters are not available in the local stack.
 */
public final class ScriptObjectMirror {
  private ScriptObjectMirror() {}

  public boolean isFunction() {
    throw unsupported();
  }

  public Object call(Object self, Object... arguments) {
    throw unsupported();
  }

  public Object callMember(String name, Object... arguments) {
    throw unsupported();
  }

  private static UnsupportedOperationException unsupported() {
    return new UnsupportedOperationException(
        "Maxwell JavaScript filters need Nashorn, which this Java does not have");
  }
}
