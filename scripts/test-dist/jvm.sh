#!/usr/bin/env bash
# Uses the jar of `make dist` from a plain Java program outside the repository: Maven resolves
# the dependencies the released pom declares (from the local Maven repository, offline when it
# has them, which the JVM build of `make dist` ensures), then javac/java run jvm-smoke/Smoke.java
# against the jar from DIST (its bundled native library, never one from the system) and a real
# nats-server.
#   DIST=<dist dir> FENCELOCK_NATS_URL=nats://127.0.0.1:PORT scripts/test-dist/jvm.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${DIST:?DIST must name the directory make dist wrote}"
: "${FENCELOCK_NATS_URL:?FENCELOCK_NATS_URL must name a nats-server with JetStream}"
version=$("$here/../version")
jar="$DIST/fencelock-$version.jar"
pom="$DIST/fencelock-$version.pom"
for f in "$jar" "$pom"; do
  [ -f "$f" ] || { echo "test-dist/jvm: $f is missing (make dist, scripts/dist/jvm.sh)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "--- test-dist/jvm: $(basename "$jar") from a Java program ($(java -version 2>&1 | head -1))"
# The released pom alone in a directory: its runtime dependencies, as a user's build gets them.
mkdir "$work/deps"
cp "$pom" "$work/deps/pom.xml"
resolve() {
  mvn -q -B -Dstyle.color=never "$@" -f "$work/deps/pom.xml" dependency:build-classpath -DincludeScope=runtime \
    -Dmdep.outputFile="$work/classpath.txt" >/dev/null
}
resolve -o || resolve
cp "$here/jvm-smoke/Smoke.java" "$work/"
cd "$work"
cp="$jar:$(cat classpath.txt)"
javac -d classes -cp "$cp" Smoke.java
java -Djna.nosys=true -cp "classes:$cp" Smoke "$FENCELOCK_NATS_URL" "$version"
