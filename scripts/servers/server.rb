#!/usr/bin/ruby
# A Ruby OpenSSL::SSL::SSLServer for the server matrix: listens on 127.0.0.1 (prints the port the
# kernel chose, then serves), answers N connections one after the other with
# "<pid> <r or .>" (session reused or not), then prints the session_cache_stats its context
# reads and what its session callbacks saw, and exits.
#
# The context has no tickets (SSL_OP_NO_TICKET) and keeps its sessions outside libssl:
# SESSION_CACHE_SERVER | SESSION_CACHE_NO_INTERNAL, with new, get and remove callbacks on a
# Hash of DER (as an external store would), so every resumption goes through the program's
# get callback.
#
# usage: server.rb CERT KEY N
require "openssl"
require "socket"

cert, key, n = ARGV[0], ARGV[1], Integer(ARGV[2])
$stdout.sync = true
ctx = OpenSSL::SSL::SSLContext.new
ctx.cert = OpenSSL::X509::Certificate.new(File.read(cert))
ctx.key = OpenSSL::PKey.read(File.read(key))
ctx.options |= OpenSSL::SSL::OP_NO_TICKET
ctx.session_cache_mode = OpenSSL::SSL::SSLContext::SESSION_CACHE_SERVER | OpenSSL::SSL::SSLContext::SESSION_CACHE_NO_INTERNAL
store = {}
seen = Hash.new(0)
ctx.session_new_cb = proc { |_sock, sess| seen[:new] += 1; store[sess.id] = sess.to_der }
ctx.session_get_cb = proc do |_sock, id|
  seen[:get] += 1
  der = store[id]
  seen[:found] += 1 if der
  der && OpenSSL::SSL::Session.new(der)
end
ctx.session_remove_cb = proc { |_ctx, sess| seen[:remove] += 1; store.delete(sess.id) }
tcp = TCPServer.new("127.0.0.1", 0)
puts tcp.addr[1]
srv = OpenSSL::SSL::SSLServer.new(tcp, ctx)
n.times do
  begin
    c = srv.accept
  rescue OpenSSL::SSL::SSLError, SystemCallError => e
    warn "handshake failed: #{e.message}"
    next
  end
  while (line = c.gets)
    break if line.strip.empty?
  end
  c.write "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n#{Process.pid} #{c.session_reused? ? 'r' : '.'}\n"
  c.close
end
st = ctx.session_cache_stats
puts "server ctx: mode=#{ctx.session_cache_mode} " + st.sort.map { |k, v| "#{k}=#{v}" }.join(" ")
puts "callbacks: " + %i[new get found remove].map { |k| "#{k}=#{seen[k]}" }.join(" ")
