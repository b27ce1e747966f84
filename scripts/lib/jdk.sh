# Sourced by the project's scripts: selects a JDK >= 22 (25 preferred) and exports JAVA_HOME and PATH.
# Looks at JAVA_HOME first, then the system's JVM directory; fails with a clear message if none fits.

_loriffm_jdk_feature() {
    # Prints the feature version (22, 25, ...) of the JDK at $1, or nothing if it is not a JDK.
    local home=$1 version
    [ -x "$home/bin/javac" ] && [ -f "$home/release" ] || return 0
    version=$(sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$home/release")
    printf '%s' "$version"
}

loriffm_select_jdk() {
    local best="" best_version=0 candidate version
    if [ -n "${JAVA_HOME:-}" ]; then
        version=$(_loriffm_jdk_feature "$JAVA_HOME")
        if [ -n "$version" ] && [ "$version" -ge 22 ]; then
            best=$JAVA_HOME
            best_version=$version
        fi
    fi
    if [ -z "$best" ] || [ "$best_version" -lt 25 ]; then
        for candidate in /usr/lib/jvm/*; do
            [ -d "$candidate" ] || continue
            version=$(_loriffm_jdk_feature "$candidate")
            [ -n "$version" ] || continue
            # Prefer 25; otherwise the newest >= 22.
            if [ "$version" -eq 25 ] && [ "$best_version" -ne 25 ]; then
                best=$candidate; best_version=$version
            elif [ "$best_version" -ne 25 ] && [ "$version" -ge 22 ] && [ "$version" -gt "$best_version" ]; then
                best=$candidate; best_version=$version
            fi
        done
    fi
    if [ -z "$best" ]; then
        echo "lori-ffm needs a JDK 22 or later (25 preferred); none found in JAVA_HOME or /usr/lib/jvm." >&2
        echo "Install one (e.g. Temurin 25: the temurin-25-jdk package) or set JAVA_HOME to it." >&2
        return 1
    fi
    export JAVA_HOME=$best
    export LORIFFM_JDK_FEATURE=$best_version
    export PATH="$JAVA_HOME/bin:$PATH"
}
