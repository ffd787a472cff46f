# Sourced: prints "URI KEYRING" of the Debian bookworm main archive that apt is
# configured with on this machine (deb822 .sources first, then sources.list).
# Nothing here names a host: the mirror is whatever the machine already uses.
apt_bookworm_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        case "$f" in *zoned-qcow2-*) continue ;; esac
        awk '
            function flush() {
                if (suites ~ /(^| )bookworm( |$)/ && uri != "")
                    { print uri " " key; found = 1; exit }
                uri = ""; suites = ""; key = ""
            }
            /^[ \t]*$/ { flush(); next }
            /^URIs:/ { uri = $2 }
            /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
            /^Signed-By:/ { key = $2 }
            END { if (!found) flush() }
        ' "$f"
    done
    if [ -f /etc/apt/sources.list ]; then
        awk '$1 == "deb" {
                 i = 2; key = ""
                 if ($2 ~ /^\[/) {
                     for (; i <= NF; i++) {
                         if ($i ~ /signed-by=/) key = $i
                         if ($i ~ /\]$/) break
                     }
                     i++
                 }
                 if ($(i + 1) == "bookworm") {
                     sub(/.*signed-by=/, "", key); sub(/\].*/, "", key)
                     print $i " " key; exit
                 }
             }' /etc/apt/sources.list
    fi
}
