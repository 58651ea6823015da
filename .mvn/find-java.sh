# Sourced by ./mvnw and ./netboot: picks a Java 25 JDK so that a machine whose default
# java is older (Debian 12 ships 17) builds and runs without the user setting anything.
# An explicit JAVA_HOME that already points at Java 25 or newer is kept.
netboot_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p'
}
netboot_pick_java() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    major=$(netboot_java_major "$JAVA_HOME")
    if [ "${major:-0}" -ge 25 ]; then return 0; fi
  fi
  for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25-jdk-arm64 \
                   /usr/lib/jvm/java-25-openjdk-amd64 /usr/lib/jvm/java-25-openjdk-arm64 \
                   /usr/lib/jvm/jdk-25; do
    if [ -x "$candidate/bin/java" ]; then JAVA_HOME=$candidate; export JAVA_HOME; return 0; fi
  done
  echo "netboot: needs a Java 25 JDK; none found under /usr/lib/jvm. Set JAVA_HOME to one." >&2
  return 1
}
netboot_pick_java
