#!/bin/sh
# Installs the real SMTP peers the tests talk to: swaks (a client) and
# Postfix, for its smtp-sink (a next hop with fault injection). Debian packages;
# Postfix is installed unconfigured and is not started.
set -eu
if command -v swaks >/dev/null 2>&1 && [ -x /usr/sbin/smtp-sink ]; then
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends swaks postfix >/dev/null
command -v swaks >/dev/null && [ -x /usr/sbin/smtp-sink ]
