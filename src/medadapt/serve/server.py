"""An OpenAI-compatible server (FastAPI + uvicorn) for a run's model, with the medical safety layer.

Endpoints: ``POST /v1/chat/completions`` (streamed as server-sent events, or one JSON object), ``GET
/v1/models``, ``GET /health``, and the chat page at ``GET /`` (``serve.webpage``). Every error is JSON in
OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``, so existing clients (the ``openai``
package, web UIs) report it properly.

Generations run one per slot (``max_concurrent``) in worker threads; up to ``max_queue`` more requests
wait for a slot; beyond that a request gets 429 at once. A client that disconnects stops its generation.
This module only wires HTTP to the parts: the wire format (``serve.api``), the request rules
(``serve.planner``) and the thread-to-response bridge (``serve.bridge``).
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from typing import Any

from fastapi import Request

from medadapt.llm.streaming import Generator
from medadapt.serve.api import APIError, Completion, model_card
from medadapt.serve.bridge import Exchange, Slots
from medadapt.serve.planner import ServeConfig, model_not_found, parse_request, plan_request
from medadapt.serve.respond import respond
from medadapt.serve.safety import SafetyLayer
from medadapt.serve.upstream import UpstreamModel
from medadapt.serve.webpage import add_page

log = logging.getLogger("medadapt.serve")


def _error_response(error: APIError):
    from fastapi.responses import JSONResponse

    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def create_app(generator: Generator | UpstreamModel, config: ServeConfig, safety: SafetyLayer | None = None):
    """The FastAPI application serving ``generator`` (a loaded model, or guard mode's upstream) under ``config``."""
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    app = FastAPI(title="medadapt", docs_url=None, redoc_url=None, openapi_url=None)
    created = int(time.time())
    state: dict[str, Any] = {"slots": None, "served": 0}

    def slots() -> Slots:  # made inside the server's event loop
        if state["slots"] is None:
            state["slots"] = Slots(config.max_concurrent, config.max_queue, config.queue_timeout_s)
        return state["slots"]

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError):
        return _error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
        return _error_response(APIError(exc.status_code, str(exc.detail), code=code))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        return _error_response(APIError(400, str(exc.errors()[0].get("msg")), code="invalid_request"))

    @app.exception_handler(Exception)
    async def _server_error(request: Request, exc: Exception):
        log.exception("unexpected error")
        return _error_response(APIError(500, f"internal error: {type(exc).__name__}", "server_error", "internal_error"))

    def authorise(request: Request) -> None:
        if not config.api_key:
            return
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip().encode(), config.api_key.encode()):
            raise APIError(401, "invalid or missing API key (send Authorization: Bearer KEY)",
                           "invalid_request_error", "invalid_api_key", headers={"WWW-Authenticate": "Bearer"})

    async def read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        too_big = APIError(413, f"request body over the limit of {config.max_request_bytes} bytes",
                           code="request_too_large")
        if declared and declared.isdigit() and int(declared) > config.max_request_bytes:
            raise too_big
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > config.max_request_bytes:
                raise too_big
        return bytes(body)

    @app.get("/health")
    async def health():
        s = slots()
        return {"status": "ok", "model": config.model_id, "auth_required": bool(config.api_key),
                "generating": s.active, "waiting": s.waiting,
                "max_concurrent": config.max_concurrent, "max_queue": config.max_queue, "served": state["served"]}

    @app.get("/v1/models")
    async def models(request: Request):
        authorise(request)
        return {"object": "list", "data": [model_card(config.model_id, created)]}

    @app.get("/v1/models/{model_id:path}")
    async def model(model_id: str, request: Request):
        authorise(request)
        if model_id != config.model_id:
            raise model_not_found(model_id, config)
        return model_card(config.model_id, created)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        authorise(request)
        req = parse_request(await read_body(request), config)
        plan = plan_request(req, config, generator)
        pool = slots()
        await pool.acquire()

        def release() -> None:
            pool.release()
            state["served"] += 1

        completion = Completion(f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time()), config.model_id)
        exchange = Exchange(lambda stop: respond(generator, plan.messages, plan.params, stop, safety), release)
        if not req.stream:
            text, reply = await exchange.text()
            return JSONResponse(completion.body(text, reply))
        include_usage = bool(req.stream_options and req.stream_options.include_usage)
        return exchange.streaming_response(exchange.events(completion, request.is_disconnected, include_usage))

    add_page(app)
    return app


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def run_server(app: Any, host: str, port: int, log_level: str = "info") -> None:
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5)
