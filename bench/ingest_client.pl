#!/usr/bin/perl
# ingest_client.pl MODE FILE: sends events the way an application does, and
# prints the elapsed milliseconds.
#   copy FILE   COPY ... FROM STDIN, the lines of FILE (text format)
#   json FILE   SELECT analytics.record_events($1), one statement per line of
#               FILE (a JSON array), the JSON bound as a parameter
# The connection comes from the PG* environment variables.
use strict;
use warnings;
use DBI;
use Time::HiRes qw(time);

my ($mode, $file) = @ARGV;
die "usage: $0 copy|json FILE\n" unless $mode && $file && $mode =~ /^(copy|json)$/;
my $dbh = DBI->connect("dbi:Pg:dbname=$ENV{BENCH_DB}", undef, undef,
                       { RaiseError => 1, AutoCommit => 1, PrintError => 0 });
open(my $fh, '<', $file) or die "$file: $!\n";
my @lines = <$fh>;
close($fh);
my $cols = 'tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, method, status_code, '
         . 'tool_name, mcp_server, model, input_tokens, output_tokens, latency_ms, user_id, session_id, '
         . 'workflow_id, execution_id, error_code, attributes';

my $t0 = time();
if ($mode eq 'copy') {
    $dbh->do("COPY analytics.usage_events ($cols) FROM STDIN");
    $dbh->pg_putcopydata($_) for @lines;
    $dbh->pg_putcopyend();
} else {
    my $sth = $dbh->prepare('SELECT analytics.record_events($1::jsonb)');
    for my $batch (@lines) {
        chomp $batch;
        $sth->execute($batch);
        $sth->fetchall_arrayref();
    }
}
printf "%d\n", (time() - $t0) * 1000;
$dbh->disconnect();
