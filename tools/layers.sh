#!/usr/bin/env bash
# layers.sh: the SQL pieces refer only to names of their own or a lower
# layer.  A piece's layer is the number its file name starts with
# (sql/schema/NN_*.sql, sql/functions/NN_*.sql; docs/architecture.md lists
# them).  Every name a piece creates in schema analytics or analytics_api is
# recorded with its layer; a piece that mentions a name created only in a
# higher layer fails the check.  Exit 1 with the offending lines.
set -euo pipefail
cd "$(dirname "$0")/.."
exec perl -e '
  use strict; use warnings;
  my (%layer_of, @pieces);
  for my $f (sort glob("sql/schema/*.sql sql/functions/*.sql")) {
    my ($n) = $f =~ m{/(\d+)_[^/]+\.sql$} or die "layers: $f has no layer number\n";
    open(my $fh, "<", $f) or die; local $/; my $text = <$fh>;
    push @pieces, [$f, $n, $text];
    while ($text =~ /\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|PROCEDURE|AGGREGATE|VIEW|TABLE|TYPE)\s+(analytics(?:_api)?\.\w+)/gi) {
      my $name = lc $1;
      $layer_of{$name} = $n if !defined $layer_of{$name} || $n < $layer_of{$name};
    }
  }
  my $bad = 0;
  for my $p (@pieces) {
    my ($f, $n, $text) = @$p;
    my $line = 0;
    for my $l (split /\n/, $text) {
      $line++;
      next if $l =~ /^\s*--/;
      while ($l =~ /\b(analytics(?:_api)?\.\w+)/g) {
        my $name = lc $1;
        next unless defined $layer_of{$name};
        if ($layer_of{$name} > $n) {
          printf "%s:%d: refers to %s of layer %s\n", $f, $line, $name, $layer_of{$name};
          $bad++;
        }
      }
    }
  }
  if ($bad) { print "layers: $bad reference(s) to a higher layer\n"; exit 1 }
  printf "layers: %d pieces, %d names, every reference to the same or a lower layer\n", scalar @pieces, scalar keys %layer_of;
'
