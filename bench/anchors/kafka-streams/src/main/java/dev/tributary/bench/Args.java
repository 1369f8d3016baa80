package dev.tributary.bench;

import java.util.HashMap;
import java.util.Map;

/** {@code --name value} arguments. */
final class Args {
  private final Map<String, String> values = new HashMap<>();

  Args(String[] argv) {
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      if (!a.startsWith("--")) throw new IllegalArgumentException("unexpected argument " + a);
      int eq = a.indexOf('=');
      if (eq > 0) values.put(a.substring(2, eq), a.substring(eq + 1));
      else values.put(a.substring(2), i + 1 < argv.length ? argv[++i] : "");
    }
  }

  String get(String name) {
    String v = values.get(name);
    if (v == null || v.isEmpty()) throw new IllegalArgumentException("missing --" + name);
    return v;
  }

  String get(String name, String fallback) {
    String v = values.get(name);
    return v == null || v.isEmpty() ? fallback : v;
  }

  long getLong(String name) {
    return Long.parseLong(get(name).replace("_", ""));
  }

  long getLong(String name, long fallback) {
    String v = values.get(name);
    return v == null || v.isEmpty() ? fallback : Long.parseLong(v.replace("_", ""));
  }
}
