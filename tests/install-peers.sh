#!/bin/sh
# Installs the real peers the tests talk to (Debian packages):
# - swaks (an SMTP client) and Postfix, for its smtp-sink (a next hop with
#   fault injection); Postfix is installed unconfigured and is not started;
# - the independent DKIM verifiers of tests/test_signing.py: Perl's Mail::DKIM
#   (with Net::DNS, and CryptX for Ed25519) and OpenDKIM's opendkim-testmsg.
set -eu
if command -v swaks >/dev/null 2>&1 && [ -x /usr/sbin/smtp-sink ] \
    && [ -x /usr/sbin/opendkim-testmsg ] \
    && perl -MMail::DKIM::Verifier -MNet::DNS -MCrypt::PK::Ed25519 -e 1 >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    swaks postfix libmail-dkim-perl libnet-dns-perl libcryptx-perl opendkim-tools >/dev/null
command -v swaks >/dev/null && [ -x /usr/sbin/smtp-sink ] && [ -x /usr/sbin/opendkim-testmsg ]
perl -MMail::DKIM::Verifier -MNet::DNS -MCrypt::PK::Ed25519 -e 1
