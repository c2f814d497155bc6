#!/usr/bin/perl
# The independent DKIM verifier of tests/test_signing.py: Perl's Mail::DKIM
# (Debian libmail-dkim-perl), its key lookups sent to a DNS server on loopback.
# usage: maildkim_verify.pl PORT < MAIL
# prints one line per signature: RESULT ALGORITHM DOMAIN SELECTOR [DETAIL]
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Net::DNS::Resolver;

my $port = shift @ARGV or die "usage: $0 PORT < MAIL\n";
Mail::DKIM::DNS::resolver(
    Net::DNS::Resolver->new(
        nameservers => ['127.0.0.1'], port => $port, recurse => 0,
        udp_timeout => 5, tcp_timeout => 5, retry => 1,
    )
);
binmode STDIN;
my $verifier = Mail::DKIM::Verifier->new();
while (my $line = <STDIN>) {
    $line =~ s/\r?\n\z/\r\n/;    # Mail::DKIM reads the mail as on the wire: CRLF
    $verifier->PRINT($line);
}
$verifier->CLOSE();
foreach my $signature ($verifier->signatures) {
    printf "%s %s %s %s %s\n", $signature->result, $signature->algorithm,
        $signature->domain, $signature->selector, ($signature->result_detail // '');
}
