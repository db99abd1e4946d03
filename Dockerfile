# syntax=docker/dockerfile:1
# Shards silo image: one silo process (Orleans silo + HTTP API), the `shards` CLI beside it.
# Build stage: the .NET 10 SDK publishes the silo and the CLI.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish silos/Shards.Silo/Shards.Silo.csproj -c Release -o /out/silo --nologo \
 && dotnet publish client/Shards.Cli/Shards.Cli.csproj -c Release -o /out/cli --nologo

# Runtime stage: ASP.NET Core runtime only, running as the image's non-root `app` user.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /out/silo /app/silo
COPY --from=build /out/cli /app/cli
COPY --chmod=755 deploy/silo-entrypoint.sh /app/silo-entrypoint.sh
USER app
# Silo-to-silo, gateway (clients), HTTP API. Nothing is published to the host: nginx fronts the HTTP API.
EXPOSE 11111 30000 8080
ENTRYPOINT ["/app/silo-entrypoint.sh"]
