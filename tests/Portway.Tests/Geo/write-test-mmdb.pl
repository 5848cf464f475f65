#!/usr/bin/perl
# Writes a small MaxMind DB for Portway's geo tests with MaxMind's own writer
# (Debian: libmaxmind-db-writer-perl), so the reader is tested against a real file, not a fake.
#
#   write-test-mmdb.pl OUT.mmdb < networks
#
# Each input line: CIDR COUNTRY CONTINENT ASN, with '-' for a field the network lacks, e.g.
#   203.0.113.0/24 DE EU -
#   2001:db8:eu::/48 FR EU 64500
# The records use the GeoIP2/GeoLite2 field names: country.iso_code, continent.code,
# autonomous_system_number (the ASN database's), so one file stands in for Country, City and ASN.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $out = shift or die "usage: $0 OUT.mmdb < networks\n";

my %types = (
    country                        => 'map',
    continent                      => 'map',
    iso_code                       => 'utf8_string',
    code                           => 'utf8_string',
    autonomous_system_number       => 'uint32',
);

my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version            => 6,
    record_size           => 24,
    database_type         => 'Portway-Test-Country-ASN',
    languages             => ['en'],
    description           => { en => 'Portway geo test data' },
    map_key_type_callback => sub { $types{ $_[0] } },
    # The tests use documentation and loopback ranges, which the writer drops by default.
    remove_reserved_networks => 0,
    # IPv4 addresses are looked up in ::/96 as well as ::ffff:0:0/96.
    alias_ipv6_to_ipv4    => 1,
);

while (my $line = <STDIN>) {
    chomp $line;
    next if $line =~ /^\s*(#|$)/;
    my ($cidr, $country, $continent, $asn) = split /\s+/, $line;
    my %record;
    $record{country}   = { iso_code => $country } if defined $country && $country ne '-';
    $record{continent} = { code => $continent }   if defined $continent && $continent ne '-';
    $record{autonomous_system_number} = $asn + 0  if defined $asn && $asn ne '-';
    $tree->insert_network($cidr, \%record);
}

open my $fh, '>:raw', $out or die "cannot write $out: $!\n";
$tree->write_tree($fh);
close $fh or die "cannot write $out: $!\n";
