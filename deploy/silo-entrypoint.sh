#!/bin/sh
# Starts a silo in a container. It listens on every interface of the container and advertises the container's own
# address (what the other silos and clients reach it at), with a unique name, unless the environment says otherwise.
set -eu
: "${Shards__Silo__AdvertisedAddress:=$(hostname -i | awk '{print $1}')}"
: "${Shards__Silo__Name:=silo-$(hostname)}"
export Shards__Silo__AdvertisedAddress Shards__Silo__Name
exec dotnet /app/silo/Shards.Silo.dll "$@"
