# In-memory TLS with Perl's Net::SSLeay (which DynaLoader opens, and with it libssl, with
# RTLD_LOCAL): TLS 1.2 with session ids and TLS 1.3 with stateful tickets, a full handshake
# then a resumption, and the server's statistics. The transcript must be the same with and
# without libsesscache_preload.so.  Usage: perl ssleay_memory.pl CERT KEY
use strict;
use warnings;
use Net::SSLeay;

Net::SSLeay::initialize();
my ($cert, $key) = @ARGV;

sub pump { my ($from, $to) = @_; my $d = Net::SSLeay::BIO_read($from); Net::SSLeay::BIO_write($to, $d) if defined $d && length $d; }

# One connection; returns (reused, the client's session).
sub connect_once {
    my ($sctx, $cctx, $sess) = @_;
    my ($s, $c) = (Net::SSLeay::new($sctx), Net::SSLeay::new($cctx));
    my @b = map { Net::SSLeay::BIO_new(Net::SSLeay::BIO_s_mem()) } 1 .. 4;    # s_in s_out c_in c_out
    Net::SSLeay::set_bio($s, $b[0], $b[1]);
    Net::SSLeay::set_bio($c, $b[2], $b[3]);
    Net::SSLeay::set_accept_state($s);
    Net::SSLeay::set_connect_state($c);
    Net::SSLeay::set_session($c, $sess) if $sess;
    my ($sd, $cd) = (0, 0);
    for (1 .. 100) {
        $cd ||= Net::SSLeay::do_handshake($c) == 1;
        pump($b[3], $b[0]);
        $sd ||= Net::SSLeay::do_handshake($s) == 1;
        pump($b[1], $b[2]);
        last if $sd && $cd;
    }
    die "handshake did not finish\n" unless $sd && $cd;
    Net::SSLeay::write($s, "x");
    pump($b[1], $b[2]);
    die "no byte\n" unless (Net::SSLeay::read($c) // '') eq "x";
    my $reused = Net::SSLeay::session_reused($c);
    die "client and server disagree\n" if $reused != Net::SSLeay::session_reused($s);
    my $got = Net::SSLeay::get1_session($c);
    Net::SSLeay::shutdown($c);
    pump($b[3], $b[0]);
    Net::SSLeay::shutdown($s);
    Net::SSLeay::free($_) for $c, $s;
    return ($reused, $got);
}

sub scenario {
    my ($name, $version) = @_;
    my $sctx = Net::SSLeay::CTX_new_with_method(Net::SSLeay::TLS_server_method()) or die "CTX_new failed\n";
    Net::SSLeay::CTX_use_certificate_file($sctx, $cert, &Net::SSLeay::FILETYPE_PEM) or die "certificate\n";
    Net::SSLeay::CTX_use_PrivateKey_file($sctx, $key, &Net::SSLeay::FILETYPE_PEM) or die "key\n";
    Net::SSLeay::CTX_set_options($sctx, &Net::SSLeay::OP_NO_TICKET);
    Net::SSLeay::CTX_set_max_proto_version($sctx, $version);
    my $cctx = Net::SSLeay::CTX_new_with_method(Net::SSLeay::TLS_client_method()) or die "CTX_new failed\n";
    my ($first, $sess) = connect_once($sctx, $cctx);
    my ($second) = connect_once($sctx, $cctx, $sess);
    Net::SSLeay::SESSION_free($sess);
    printf "%s: first=%s second=%s number=%d hits=%d misses=%d accept=%d accept_good=%d mode=0x%x\n", $name,
      $first ? "reused" : "new", $second ? "reused" : "new", Net::SSLeay::CTX_sess_number($sctx),
      Net::SSLeay::CTX_sess_hits($sctx), Net::SSLeay::CTX_sess_misses($sctx), Net::SSLeay::CTX_sess_accept($sctx),
      Net::SSLeay::CTX_sess_accept_good($sctx), Net::SSLeay::CTX_get_session_cache_mode($sctx);
    Net::SSLeay::CTX_free($_) for $cctx, $sctx;
}

scenario("tls1.2 session ids", Net::SSLeay::TLS1_2_VERSION());
scenario("tls1.3 stateful", Net::SSLeay::TLS1_3_VERSION());
print "done\n";
