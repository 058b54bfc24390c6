#!/usr/bin/perl
# An IO::Socket::SSL server for the server matrix: listens on 127.0.0.1 (prints the port the
# kernel chose, then serves), answers N connections one after the other with
# "<pid> <r or .>" (session reused or not), then prints its context's session counters
# (Net::SSLeay::CTX_sess_*) and exits. TICKETS=0 sets SSL_OP_NO_TICKET (sessions in the cache).
#
# usage: server.pl CERT KEY N TICKETS
use strict;
use warnings;
use IO::Socket::IP;
use IO::Socket::SSL;
use Net::SSLeay;

my ($cert, $key, $n, $tickets) = @ARGV;
$| = 1;
my $ctx = IO::Socket::SSL::SSL_Context->new(
    SSL_server    => 1,
    SSL_cert_file => $cert,
    SSL_key_file  => $key,
) or die "SSL Context init failed: $SSL_ERROR\n";
Net::SSLeay::CTX_set_options($ctx->{context}, Net::SSLeay::OP_NO_TICKET()) unless $tickets;
my $srv = IO::Socket::IP->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 16, ReuseAddr => 1)
    or die "listen: $!\n";
print $srv->sockport, "\n";
for (1 .. $n) {
    my $c = $srv->accept or die "accept: $!\n";
    IO::Socket::SSL->start_SSL($c, SSL_server => 1, SSL_reuse_ctx => $ctx, Timeout => 10)
        or do { warn "handshake failed: $SSL_ERROR\n"; next };
    while (defined(my $line = <$c>)) { last if $line =~ /^\r?\n$/ }
    my $reused = Net::SSLeay::session_reused($c->_get_ssl_object) ? 'r' : '.';
    print $c "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n$$ $reused\n";
    $c->close;
}
my $cx = $ctx->{context};
print "server ctx: ", join(' ', map { "$_=" . Net::SSLeay->can("CTX_sess_$_")->($cx) }
    qw(number connect connect_good accept accept_good hits cb_hits misses timeouts cache_full)), "\n";
