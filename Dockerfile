# twitter-upload-mock as an image, for CI service containers (docs/ci.md).
#   docker build -t twitter-upload-mock .
#   docker run --rm -p 8080:8080 twitter-upload-mock            # extra flags may follow
# Not built on this project's machines (they have no Docker daemon); scripts/test-package runs
# the runtime stage's command and health check against the same tarball instead.

# Build: the same scripts/package as everywhere, which installs what it needs.
FROM swift:6.3-bookworm AS build
WORKDIR /src
COPY . .
RUN scripts/package \
 && mkdir /out \
 && tar -C /out --strip-components=1 -xzf dist/twitter-upload-mock-*-linux-x86_64.tar.gz

# Runtime: the tarball's binary and libraries, curl for the health check, a user without rights.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin mock
COPY --from=build /out/ /opt/twitter-upload-mock/
USER mock
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/__admin/health || exit 1
# All interfaces inside the container, so a published port reaches it; SIGTERM (docker stop)
# stops it at once with exit 0.
ENTRYPOINT ["/opt/twitter-upload-mock/twitter-upload-mock", "--host", "0.0.0.0", "--port", "8080"]
