# PSGI entry point for the LemonLDAP::NG portal under Starman (no nginx): the portal itself plus
# the static assets Debian's nginx vhost would serve (/static/ and /javascript/).
use strict;
use Plack::Builder;
use Lemonldap::NG::Portal::Main;

my $portal = Lemonldap::NG::Portal::Main->run( {} );

builder {
    enable 'Static',
      path => qr{^/static/},
      root => '/usr/share/lemonldap-ng/portal/htdocs/';
    enable 'Static',
      path => sub { s{^/javascript/}{} },
      root => '/usr/share/javascript/';
    $portal;
};
