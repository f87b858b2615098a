#!/bin/sh
# System packages the tests need: Dovecot (a real IMAP server on loopback), openssl (test
# certificates for TLS), tmux (the end-to-end check of the dashboard) and PostgreSQL (team
# mode's database, started by the tests from a temp dir). Only what is missing is installed.
# Debian/Ubuntu; needs root or sudo.
set -e
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
MISSING=""
command -v dovecot >/dev/null 2>&1 || MISSING="$MISSING dovecot-imapd"
command -v tmux >/dev/null 2>&1 || MISSING="$MISSING tmux"
command -v openssl >/dev/null 2>&1 || MISSING="$MISSING openssl"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || MISSING="$MISSING postgresql"
[ -n "$MISSING" ] || exit 0
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $MISSING >/dev/null
