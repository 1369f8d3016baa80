package dev.tributary.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A small JSON object parser (objects as {@code Map}, arrays as {@code List}), enough for nexmark's
 * events: what the Kafka Streams anchor uses instead of a JSON library (the anchors' jar has
 * none). Numbers without a fraction or exponent are {@code Long}, others {@code Double}.
 */
final class FlatJson {
  private final String s;
  private int i;

  private FlatJson(String s) {
    this.s = s;
  }

  static Map<String, Object> parse(String text) {
    FlatJson p = new FlatJson(text);
    p.ws();
    return p.object();
  }

  private Map<String, Object> object() {
    Map<String, Object> out = new HashMap<>(16);
    expect('{');
    ws();
    if (peek() == '}') {
      i++;
      return out;
    }
    while (true) {
      ws();
      String key = string();
      ws();
      expect(':');
      ws();
      out.put(key, value());
      ws();
      char c = next();
      if (c == '}') return out;
      if (c != ',') throw new IllegalArgumentException("expected , or } at " + (i - 1));
    }
  }

  private List<Object> array() {
    List<Object> out = new ArrayList<>();
    expect('[');
    ws();
    if (peek() == ']') {
      i++;
      return out;
    }
    while (true) {
      ws();
      out.add(value());
      ws();
      char c = next();
      if (c == ']') return out;
      if (c != ',') throw new IllegalArgumentException("expected , or ] at " + (i - 1));
    }
  }

  /** The value as a JSON string literal. */
  static String quote(String v) {
    StringBuilder b = new StringBuilder(v.length() + 2).append('"');
    for (int k = 0; k < v.length(); k++) {
      char c = v.charAt(k);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
          else b.append(c);
        }
      }
    }
    return b.append('"').toString();
  }

  private Object value() {
    char c = peek();
    if (c == '"') return string();
    if (c == '{') return object();
    if (c == '[') return array();
    if (c == 't') return literal("true", Boolean.TRUE);
    if (c == 'f') return literal("false", Boolean.FALSE);
    if (c == 'n') return literal("null", null);
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    throw new IllegalArgumentException("unexpected " + c + " at " + i);
  }

  private Object literal(String word, Object v) {
    if (!s.startsWith(word, i)) throw new IllegalArgumentException("expected " + word + " at " + i);
    i += word.length();
    return v;
  }

  private Object number() {
    int start = i;
    boolean integral = true;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (c == '.' || c == 'e' || c == 'E') integral = false;
      else if (!(c == '-' || c == '+' || (c >= '0' && c <= '9'))) break;
      i++;
    }
    String n = s.substring(start, i);
    return integral ? (Object) Long.parseLong(n) : (Object) Double.parseDouble(n);
  }

  private String string() {
    expect('"');
    StringBuilder b = null;
    int start = i;
    while (true) {
      if (i >= s.length()) throw new IllegalArgumentException("unterminated string");
      char c = s.charAt(i++);
      if (c == '"') return b == null ? s.substring(start, i - 1) : b.toString();
      if (c == '\\') {
        if (b == null) b = new StringBuilder().append(s, start, i - 1);
        char e = s.charAt(i++);
        switch (e) {
          case 'n' -> b.append('\n');
          case 't' -> b.append('\t');
          case 'r' -> b.append('\r');
          case 'b' -> b.append('\b');
          case 'f' -> b.append('\f');
          case 'u' -> {
            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            i += 4;
          }
          default -> b.append(e);
        }
      } else if (b != null) {
        b.append(c);
      }
    }
  }

  private void ws() {
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
  }

  private char peek() {
    if (i >= s.length()) throw new IllegalArgumentException("unexpected end");
    return s.charAt(i);
  }

  private char next() {
    char c = peek();
    i++;
    return c;
  }

  private void expect(char c) {
    if (next() != c) throw new IllegalArgumentException("expected " + c + " at " + (i - 1));
  }
}
