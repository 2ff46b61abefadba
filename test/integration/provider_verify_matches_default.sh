#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Verification through pico gives the default provider's answer, for every
# signature scheme a device key signs with: RSA PKCS#1 v1.5 (sha1..sha512),
# PSS (salt digest/max/auto/explicit, MGF1 digest other than the message's),
# raw RSA, RSA-PSS keys (restricted and not), ECDSA on P-256/P-384/P-521 with
# every digest. Signatures made
# through pico (pkeyutl over a digest, dgst) and by the default provider with
# a software key are verified through pico (pkeyutl over a digest, pkeyutl
# -rawin -digest, dgst) and with plain openssl: each form's answer (status and
# output) must be the same, for the good signature and for a corrupted one.
# The -rawin/dgst forms once failed good signatures (the software verify
# context never saw the digest).
. "$(dirname "$0")/provider-lib.sh"
with_devices

msg=$work/msg
printf 'the message to sign, %s\n' "$(seq 1 50)" > "$msg"

# Device keys, their public halves, and software keys of the same kinds
pico_genkey RSA rsa_keygen_bits:2048 rsa2k
pico_genkey EC group:P-256 ec256
pico_genkey EC group:P-384 ec384
pico_genkey EC group:P-521 ec521
# RSA-PSS: restricted to SHA-256, MGF1 SHA-256, salt >= 32; and unrestricted
pss_opts=(-pkeyopt rsa_pss_keygen_md:sha256 -pkeyopt rsa_pss_keygen_mgf1_md:sha256
    -pkeyopt rsa_pss_keygen_saltlen:32)
run ossl genpkey -propquery provider=pico -algorithm RSA-PSS "${pss_opts[@]}" \
    -pkeyopt pico-label:pssr -pkeyopt "pico-uri:pico:?pin-value=$PIN" -out "$work/pssr.uri.pem"
run ossl genpkey -propquery provider=pico -algorithm RSA-PSS \
    -pkeyopt pico-label:pssu -pkeyopt "pico-uri:pico:?pin-value=$PIN" -out "$work/pssu.uri.pem"
for k in rsa2k ec256 ec384 ec521 pssr pssu; do
    run ossl pkey -pubin -in "pico:object=$k;type=public" -pubout -out "$work/$k.pub.pem"
done
run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/sw-rsa2k.pem"
run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/sw-ec256.pem"
run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$work/sw-ec384.pem"
run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out "$work/sw-ec521.pem"
run openssl genpkey -algorithm RSA-PSS "${pss_opts[@]}" -out "$work/sw-pssr.pem"
run openssl genpkey -algorithm RSA-PSS -out "$work/sw-pssu.pem"
for k in rsa2k ec256 ec384 ec521 pssr pssu; do
    run openssl pkey -in "$work/sw-$k.pem" -pubout -out "$work/sw-$k.pub.pem"
done
for md in sha1 sha224 sha256 sha384 sha512; do
    openssl dgst -"$md" -binary "$msg" > "$work/dgst.$md"
done

# Short option names of the table: pss, pkcs1, none (padding), digest, max, auto
# or a number (PSS salt length), mgf1=MD. Prints one OPT:VALUE per line.
expand() {
    local o
    [ "$1" = - ] && return 0
    for o in ${1//,/ }; do
        case "$o" in
        pss | pkcs1 | none) echo "rsa_padding_mode:$o" ;;
        digest | max | auto | [0-9]*) echo "rsa_pss_saltlen:$o" ;;
        mgf1=*) echo "rsa_mgf1_md:${o#mgf1=}" ;;
        *) fail "table: unknown option $o" ;;
        esac
    done
}

# Runs a command and prints its status and output on one line (stderr kept aside)
answer() {
    local out st=0
    out=$("$@" 2>"$work/verify.err") || st=$?
    echo "status=$st ${out//$'\n'/ }"
}

# Checks one form: the answer through pico equals plain openssl's, and plain
# openssl's is the expected one: same FORM EXPECT -- PICO-CMD... -- PLAIN-CMD...
same() {
    local form=$1 expect=$2 a=() b=() pico plain
    shift 3
    while [ "$1" != -- ]; do
        a+=("$1")
        shift
    done
    shift
    b=("$@")
    pico=$(answer "${a[@]}")
    plain=$(answer "${b[@]}")
    echo "+ $form: pico '$pico', openssl '$plain'" >&2
    case "$expect:$plain" in
    ok:status=0* | fail:status=[1-9]*) ;;
    *) fail "$form: openssl says '$plain', expected $expect: ${b[*]}" ;;
    esac
    [ "$pico" = "$plain" ] || fail "$form: pico says '$pico', openssl '$plain': ${a[*]}"
}

# Verifies SIG in every form through pico and with plain openssl:
#   verify_all DESC EXPECT MD PICO-KEY PUB-PEM SIG OPTS
# PICO-KEY is a pico: URI or a public key file; the property query makes pico's
# signature code do the work in either provider order.
verify_all() {
    local desc=$1 expect=$2 md=$3 pkey=$4 pub=$5 sig=$6 opts=$7 po=() so=() o
    local pq=(-propquery '?provider=pico')
    for o in $(expand "$opts"); do
        po+=(-pkeyopt "$o")
        so+=(-sigopt "$o")
    done
    same "$desc pkeyutl digest" "$expect" -- \
        ossl pkeyutl "${pq[@]}" -verify -pubin -inkey "$pkey" -in "$work/dgst.$md" \
        -pkeyopt "digest:$md" -sigfile "$sig" "${po[@]}" -- \
        openssl pkeyutl -verify -pubin -inkey "$pub" -in "$work/dgst.$md" \
        -pkeyopt "digest:$md" -sigfile "$sig" "${po[@]}"
    same "$desc pkeyutl -rawin" "$expect" -- \
        ossl pkeyutl "${pq[@]}" -verify -pubin -inkey "$pkey" -rawin -digest "$md" -in "$msg" \
        -sigfile "$sig" "${po[@]}" -- \
        openssl pkeyutl -verify -pubin -inkey "$pub" -rawin -digest "$md" -in "$msg" \
        -sigfile "$sig" "${po[@]}"
    same "$desc dgst" "$expect" -- \
        ossl dgst "${pq[@]}" -"$md" -verify "$pkey" "${so[@]}" -signature "$sig" "$msg" -- \
        openssl dgst -"$md" -verify "$pub" "${so[@]}" -signature "$sig" "$msg"
}

# A copy of SIG with one byte in the middle flipped
corrupt() {
    local n
    n=$(stat -c %s "$1")
    cp "$1" "$1.bad"
    printf "\\x$(printf %02x $((0x$(xxd -s $((n / 2)) -l 1 -p "$1") ^ 0x55)))" |
        dd of="$1.bad" bs=1 seek=$((n / 2)) conv=notrunc status=none
}

# key md sign-options verify-options (= the same; !OPTS: must fail with them)
while read -r -u 3 key md sopts vopts; do
    [ -z "$key" ] || [ "${key:0:1}" = "#" ] && continue
    expect=ok
    [ "$vopts" = = ] && vopts=$sopts
    if [ "${vopts:0:1}" = "!" ]; then
        expect=fail
        vopts=${vopts:1}
    fi
    desc="$key $md sign[$sopts] verify[$vopts]"
    po=()
    so=()
    for o in $(expand "$sopts"); do
        po+=(-pkeyopt "$o")
        so+=(-sigopt "$o")
    done
    dig=(-pkeyopt "digest:$md")
    uri="pico:object=$key;type=public"
    # Signed on the device over the digest
    run ossl pkeyutl -sign -inkey "pico:object=$key?pin-value=$PIN" -in "$work/dgst.$md" \
        "${dig[@]}" "${po[@]}" -out "$work/sig"
    verify_all "$desc [pico pkeyutl]" "$expect" "$md" "$uri" "$work/$key.pub.pem" "$work/sig" \
        "$vopts"
    if [ "$expect" = ok ]; then
        corrupt "$work/sig"
        verify_all "$desc [corrupted]" fail "$md" "$uri" "$work/$key.pub.pem" "$work/sig.bad" \
            "$vopts"
    fi
    # Signed by the default provider with a software key, verified by pico's code
    run openssl pkeyutl -sign -inkey "$work/sw-$key.pem" -in "$work/dgst.$md" "${dig[@]}" \
        "${po[@]}" -out "$work/sig"
    verify_all "$desc [default]" "$expect" "$md" "$work/sw-$key.pub.pem" "$work/sw-$key.pub.pem" \
        "$work/sig" "$vopts"
    # Signed on the device with dgst (digest-sign)
    run ossl dgst -"$md" -sign "pico:object=$key?pin-value=$PIN" "${so[@]}" -out "$work/sig" "$msg"
    verify_all "$desc [pico dgst]" "$expect" "$md" "$uri" "$work/$key.pub.pem" "$work/sig" "$vopts"
done 3<<'EOF'
# RSA PKCS#1 v1.5 (explicit, and the default padding)
rsa2k sha1   pkcs1 =
rsa2k sha224 -     =
rsa2k sha256 -     =
rsa2k sha384 pkcs1 =
rsa2k sha512 -     =
# RSA PSS: salt digest, max, auto (signs with max), explicit; MGF1 digest of its own
rsa2k sha1   pss,digest          =
rsa2k sha224 pss,max             =
rsa2k sha256 pss,digest          =
rsa2k sha384 pss,max             pss,auto
rsa2k sha512 pss,auto            =
rsa2k sha256 pss,0               =
rsa2k sha256 pss,20              =
rsa2k sha256 pss,100             pss,auto
rsa2k sha256 pss,digest,mgf1=sha1 =
rsa2k sha512 pss,64,mgf1=sha256  =
rsa2k sha384 pss,48,mgf1=sha512  pss,auto,mgf1=sha512
# wrong verification parameters fail in both
rsa2k sha256 pss,20              !pss,32
rsa2k sha256 pss,digest,mgf1=sha1 !pss,digest
rsa2k sha256 pss,digest          !pkcs1
rsa2k sha256 pkcs1               !pss,auto
# RSA-PSS keys: the restricted key's defaults (its salt), longer salts, what it refuses
pssr sha256 -          =
pssr sha256 64         =
pssr sha256 max        =
pssr sha256 -          !20
pssr sha256 48         !pss,32
pssu sha256 -          =
pssu sha384 digest     =
pssu sha512 20,mgf1=sha1 =
pssu sha256 digest     !pkcs1
# ECDSA, every curve and digest
ec256 sha1   - =
ec256 sha224 - =
ec256 sha256 - =
ec256 sha384 - =
ec256 sha512 - =
ec384 sha1   - =
ec384 sha224 - =
ec384 sha256 - =
ec384 sha384 - =
ec384 sha512 - =
ec521 sha1   - =
ec521 sha224 - =
ec521 sha256 - =
ec521 sha384 - =
ec521 sha512 - =
EOF

# Raw RSA (no padding): pkeyutl takes no modulus-sized input to sign or verify, rsautl
# does: plain openssl recovers the block from the signature
{ printf '\000'; head -c 255 /dev/urandom; } > "$work/block"
run ossl rsautl -sign -raw -inkey "pico:object=rsa2k?pin-value=$PIN" -in "$work/block" \
    -out "$work/sig"
run openssl rsautl -verify -raw -pubin -inkey "$work/rsa2k.pub.pem" -in "$work/sig" \
    -out "$work/recovered"
cmp "$work/block" "$work/recovered" || fail "raw rsa: the recovered block differs"
corrupt "$work/sig"
run openssl rsautl -verify -raw -pubin -inkey "$work/rsa2k.pub.pem" -in "$work/sig.bad" \
    -out "$work/recovered"
! cmp -s "$work/block" "$work/recovered" || fail "raw rsa: a corrupted signature recovers the block"
echo PASS
