#!/usr/bin/env bash
# Builds the local container images the Testcontainers tests use, from Debian packages, Maven Central jars and
# npm packages only (nothing is pulled from a registry). Idempotent: an image whose tag exists is not built again.
#
#   scripts/container-images.sh            # all images
#   scripts/container-images.sh kafka      # one image and the images it is built on
#
# Tags: each image is tagged NAME:HASH, HASH = the first 12 hex digits of a sha256 over its build context
# (Containerfile and files), its version and its parent's tag, and NAME:VERSION pointing to the same image.
# Tests use NAME:VERSION (e.g. localhost/tributary-kafka:4.4.0, the kafka.version of the parent pom); a changed
# Containerfile gives a new HASH, so the next run builds it and moves NAME:VERSION.
#
#   localhost/tributary-debian:bookworm    debootstrap --variant=minbase + podman import
#   localhost/tributary-jre17:17           openjdk-17-jre-headless, iproute2 (tc), socat
#   localhost/tributary-kafka:KAFKA        Kafka (KRaft) from Maven Central, apache/kafka's env contract
#   localhost/tributary-s3proxy:S3PROXY    s3proxy (Maven Central jar-with-dependencies): S3 API on port 8080
#   localhost/tributary-flume:FLUME        an Apache Flume agent (flume-ng-node from Maven Central, log4j 2)
#   localhost/tributary-kinesis:K-D        kinesis-mock K and dynalite D (npm, connector-kinesis/testservers'
#                                          package-lock.json) on Debian's Node.js: Kinesis 4568, DynamoDB 8000
#
# Needs root and podman (scripts/container-engine.sh). Work files (rootfs, jars) go to $TRIBUTARY_IMAGE_WORK
# (default /var/tmp/tributary-images), never into the repository.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMAGES=$ROOT/scripts/images
WORK=${TRIBUTARY_IMAGE_WORK:-/var/tmp/tributary-images}
mkdir -p "$WORK"

pom_property() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$ROOT/pom.xml" | head -1; }
KAFKA_VERSION=$(pom_property kafka.version)
S3PROXY_VERSION=$(pom_property s3proxy.version)
FLUME_VERSION=$(pom_property flume.version)

timed() {
  local s; s=$(date +%s%N)
  "$@"
  local ms=$((($(date +%s%N) - s) / 1000000))
  printf 'container-images: %s took %d.%03d s\n' "$*" $((ms / 1000)) $((ms % 1000))
}

# sha256 (12 hex digits) of a directory's files (names and contents, sorted) and extra strings. Downloaded parts
# (libs/, node_modules/, *.jar) are left out: the versions among the extra strings stand for them, and the check
# before downloading them must give the same hash as the build after.
context_hash() {
  local dir=$1; shift
  {
    (cd "$dir" && find . -type f ! -path './libs/*' ! -path './node_modules/*' ! -name '*.jar' -print0 | sort -z |
      xargs -0 sha256sum)
    printf '%s\n' "$@"
  } | sha256sum | cut -c1-12
}

exists() { podman image exists "$1"; }

BASE=localhost/tributary-debian:bookworm
base_image() {
  if exists "$BASE"; then echo "container-images: $BASE present"; return; fi
  local mirror rootfs=$WORK/rootfs
  # The mirror apt uses on this machine (deb822 sources); without one, debootstrap's own default.
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  rm -rf "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" ${mirror:+"$mirror"} >"$WORK/debootstrap.log" 2>&1 || {
    tail -30 "$WORK/debootstrap.log" >&2
    exit 1
  }
  # The image's apt uses this machine's sources (main, updates, security) when it has deb822 ones; else it keeps
  # the sources.list debootstrap wrote.
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    rm -f "$rootfs/etc/apt/sources.list"
    cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/debian.sources"
  fi
  rm -f "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin
  rm -rf "$rootfs"/var/lib/apt/lists/*
  mkdir -p "$rootfs/var/lib/apt/lists/partial"
  tar -C "$rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$BASE" >/dev/null 2>&1
  rm -rf "$rootfs"
}

# build NAME VERSION CONTEXT PARENT [hash extras...]: NAME:HASH from CONTEXT FROM PARENT, tagged NAME:VERSION too
build() {
  local name=$1 version=$2 context=$3 parent=$4; shift 4
  local hash; hash=$(context_hash "$context" "$version" "$parent" "$(podman image inspect -f '{{.Id}}' "$parent")" "$@")
  if exists "$name:$hash"; then
    podman tag "$name:$hash" "$name:$version"
    echo "container-images: $name:$version = $name:$hash present"
    return 1
  fi
  echo "container-images: building $name:$hash"
  # earlier builds of this image (another context hash) are superseded
  local old
  for old in $(podman images --filter "reference=$name" --format '{{.Repository}}:{{.Tag}}'); do
    [[ "$old" == "$name:$version" ]] || podman rmi "$old" >/dev/null 2>&1 || true
  done
  podman build --quiet --build-arg "BASE=$parent" --label "io.tributary.context-hash=$hash" \
    -t "$name:$hash" -t "$name:$version" "$context" >"$WORK/build-${name##*/}.log" 2>&1 || {
    tail -40 "$WORK/build-${name##*/}.log" >&2
    exit 1
  }
  return 0
}

JRE=localhost/tributary-jre17:17
jre_image() { build localhost/tributary-jre17 17 "$IMAGES/jre17" "$BASE" || true; }

kafka_image() {
  local ctx=$WORK/kafka-context
  local hash; hash=$(context_hash "$IMAGES/kafka" "$KAFKA_VERSION" "$JRE" "$(podman image inspect -f '{{.Id}}' "$JRE")")
  if exists "localhost/tributary-kafka:$hash"; then
    podman tag "localhost/tributary-kafka:$hash" "localhost/tributary-kafka:$KAFKA_VERSION"
    echo "container-images: localhost/tributary-kafka:$KAFKA_VERSION = :$hash present"
    return
  fi
  rm -rf "$ctx"
  cp -r "$IMAGES/kafka" "$ctx"
  mvn -B -q -f "$ctx/pom.xml" -Dkafka.version="$KAFKA_VERSION" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$ctx/libs"
  build localhost/tributary-kafka "$KAFKA_VERSION" "$ctx" "$JRE" || true
  rm -rf "$ctx"
}

s3proxy_image() {
  local ctx=$WORK/s3proxy-context
  local hash; hash=$(context_hash "$IMAGES/s3proxy" "$S3PROXY_VERSION" "$JRE" "$(podman image inspect -f '{{.Id}}' "$JRE")")
  if exists "localhost/tributary-s3proxy:$hash"; then
    podman tag "localhost/tributary-s3proxy:$hash" "localhost/tributary-s3proxy:$S3PROXY_VERSION"
    echo "container-images: localhost/tributary-s3proxy:$S3PROXY_VERSION = :$hash present"
    return
  fi
  rm -rf "$ctx"
  cp -r "$IMAGES/s3proxy" "$ctx"
  mvn -B -q -f "$IMAGES/kafka/pom.xml" dependency:copy \
    -Dartifact="org.gaul:s3proxy:$S3PROXY_VERSION:jar:jar-with-dependencies" -DoutputDirectory="$ctx" \
    -Dmdep.stripVersion=true
  mv "$ctx"/s3proxy*.jar "$ctx/s3proxy.jar" 2>/dev/null || true
  build localhost/tributary-s3proxy "$S3PROXY_VERSION" "$ctx" "$JRE" || true
  rm -rf "$ctx"
}

flume_image() {
  local ctx=$WORK/flume-context name=localhost/tributary-flume
  local hash; hash=$(context_hash "$IMAGES/flume" "$FLUME_VERSION" "$JRE" "$(podman image inspect -f '{{.Id}}' "$JRE")")
  if exists "$name:$hash"; then
    podman tag "$name:$hash" "$name:$FLUME_VERSION"
    echo "container-images: $name:$FLUME_VERSION = :$hash present"
    return
  fi
  rm -rf "$ctx"
  cp -r "$IMAGES/flume" "$ctx"
  mvn -B -q -f "$ctx/pom.xml" -Dflume.version="$FLUME_VERSION" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$ctx/libs"
  build "$name" "$FLUME_VERSION" "$ctx" "$JRE" || true
  rm -rf "$ctx"
}

# The npm packages of connector-kinesis's tests (the lock file pins every version, down to dependencies), installed
# with npm ci on this machine (the same npm .ci/run uses for the tests' local servers) and copied into the image.
TESTSERVERS=$ROOT/connector-kinesis/testservers
npm_version() { sed -n "s|.*\"$1\": *\"\([^\"]*\)\".*|\1|p" "$TESTSERVERS/package.json" | head -1; }
KINESIS_VERSION=$(npm_version kinesis-local)-$(npm_version dynalite)
kinesis_image() {
  local ctx=$WORK/kinesis-context name=localhost/tributary-kinesis
  rm -rf "$ctx"
  cp -r "$IMAGES/kinesis" "$ctx"
  cp "$TESTSERVERS/package.json" "$TESTSERVERS/package-lock.json" "$TESTSERVERS/dynalite-server.js" "$ctx/"
  local hash; hash=$(context_hash "$ctx" "$KINESIS_VERSION" "$JRE" "$(podman image inspect -f '{{.Id}}' "$JRE")")
  if exists "$name:$hash"; then
    podman tag "$name:$hash" "$name:$KINESIS_VERSION"
    echo "container-images: $name:$KINESIS_VERSION = :$hash present"
    rm -rf "$ctx"
    return
  fi
  (cd "$ctx" && npm ci --ignore-scripts --no-audit --no-fund >"$WORK/npm-ci-kinesis.log" 2>&1) || {
    tail -30 "$WORK/npm-ci-kinesis.log" >&2
    exit 1
  }
  build "$name" "$KINESIS_VERSION" "$ctx" "$JRE" || true
  rm -rf "$ctx"
}

want=${1:-all}
timed base_image
timed jre_image
case "$want" in
  all)
    # The four server images only share the JRE image: built side by side (each has its own context directory and
    # build log; a fresh machine spends most of it downloading jars and npm packages and committing layers).
    pids=()
    for image in kafka s3proxy kinesis flume; do
      (timed "${image}_image") &
      pids+=($!)
    done
    failed=0
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    [ "$failed" -eq 0 ] || { echo "container-images: an image build failed (see above)" >&2; exit 1; }
    ;;
  kafka) timed kafka_image ;;
  s3proxy) timed s3proxy_image ;;
  kinesis) timed kinesis_image ;;
  flume) timed flume_image ;;
  jre) ;;
  *) echo "unknown image '$want' (expected: all, jre, kafka, s3proxy, kinesis or flume)" >&2; exit 2 ;;
esac
podman image prune -f >/dev/null
podman images --filter reference='localhost/tributary-*' --format '{{.Repository}}:{{.Tag}} {{.Size}}'
