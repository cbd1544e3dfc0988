# Sourced by ./come and ./test: exports JAVA_HOME as the first JDK >= 25 (JAVA_HOME first, then /usr/lib/jvm/*).
java_major() { "$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }
find_jdk() {
  local c v
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
    [ -n "$c" ] && [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    v=$(java_major "$c")
    [ -n "$v" ] && [ "$v" -ge 25 ] && { echo "$c"; return 0; }
  done
  return 1
}
JAVA_HOME=$(find_jdk) || { echo "come4j needs a JDK >= 25: set JAVA_HOME or install one under /usr/lib/jvm (none found)" >&2; exit 1; }
export JAVA_HOME
