#!/bin/sh
# System packages the tests need: Dovecot (a real IMAP server on loopback), openssl (test
# certificates for TLS) and tmux (the end-to-end check of the dashboard).
# Debian/Ubuntu; needs root or sudo.
set -e
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dovecot-imapd tmux openssl >/dev/null
