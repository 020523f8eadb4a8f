# syntax=docker/dockerfile:1

# Herald in a container: a static, cgo-free binary on a distroless base,
# running as a non-root user with its data (SQLite file, generated secret
# key) in the /data volume.
#
#   docker build --build-arg VERSION=v1.2.3 -t herald .
#   docker run -p 8080:8080 -v herald-data:/data herald

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Dependencies first, so code changes reuse the cached module download.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# Templates (*_templ.go), static files and migrations are committed and
# embedded, so a plain go build is the whole build.
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X main.version=${VERSION}" \
	-o /out/herald ./cmd/herald \
	&& mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/herald /usr/local/bin/herald
# A named volume starts as a copy of this directory, owned by nonroot.
COPY --from=build --chown=65532:65532 /out/data /data
ENV HERALD_DATA_DIR=/data \
	HERALD_ADDR=:8080
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
# No HEALTHCHECK: the image has no shell or curl. Point your orchestrator's
# probes at GET /healthz (liveness) and GET /readyz (readiness).
ENTRYPOINT ["/usr/local/bin/herald"]
CMD ["serve"]
