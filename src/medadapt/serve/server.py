"""An OpenAI-compatible server (FastAPI + uvicorn) for a run's model, with the medical safety layer.

Endpoints: ``POST /v1/chat/completions`` (streamed as server-sent events, or one JSON object), ``GET
/v1/models``, ``GET /health``. Every error is JSON in OpenAI's shape, ``{"error": {"message", "type",
"param", "code"}}``, so existing clients (the ``openai`` package, web UIs) report it properly.

Generations run one per slot (``max_concurrent``) in worker threads; up to ``max_queue`` more requests
wait for a slot; beyond that a request gets 429 at once. A client that disconnects stops its generation.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from medadapt.serve.generation import Generator, GenParams, StopFlag
from medadapt.serve.safety import Reply, SafetyLayer

log = logging.getLogger("medadapt.serve")


@dataclass
class ServeConfig:
    model_id: str = "medadapt"
    api_key: str | None = None
    max_request_bytes: int = 256 * 1024
    max_messages: int = 64
    max_tokens_limit: int = 1024       # the most a request may ask for
    default_max_tokens: int = 256      # when a request names none
    max_concurrent: int = 1            # generations at once (one model; on a CPU more only slows each)
    max_queue: int = 8                 # requests waiting for a slot before 429
    queue_timeout_s: float = 120.0     # a waiting request gives up with 429 after this long
    temperature: float = 0.7
    top_p: float = 0.9
    repetition_penalty: float = 1.1
    system_prompt: str | None = None   # added when a conversation has no system message


class APIError(Exception):
    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            if any(p.type != "text" for p in self.content):
                raise APIError(400, "only text content parts are supported", param="messages", code="unsupported_content")
            return "".join(p.text or "" for p in self.content)
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # OpenAI fields this server ignores (user, presence_penalty, …)
    model: str
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    stop: str | list[str] | None = None
    seed: int | None = None
    n: int = Field(1, ge=1, le=1)
    stream_options: StreamOptions | None = None
    tools: list[Any] | None = None

    @field_validator("stop")
    @classmethod
    def _stops(cls, value):
        stops = [value] if isinstance(value, str) else value or []
        if len(stops) > 4 or any(not s for s in stops):
            raise ValueError("at most 4 non-empty stop sequences")
        return stops


class Slots:
    """``max_concurrent`` generation slots and a bounded waiting line (429 when it is full)."""

    def __init__(self, concurrent: int, queue: int, timeout: float):
        self.semaphore = asyncio.Semaphore(concurrent)
        self.concurrent, self.queue_limit, self.timeout = concurrent, queue, timeout
        self.active = 0
        self.waiting = 0

    async def acquire(self) -> None:
        if self.active >= self.concurrent and self.waiting >= self.queue_limit:
            raise APIError(429, f"server busy: {self.active} generating, {self.waiting} waiting (queue limit "
                                f"{self.queue_limit}); retry later", "rate_limit_error", "rate_limit_exceeded",
                           headers={"Retry-After": "1"})
        self.waiting += 1
        try:
            await asyncio.wait_for(self.semaphore.acquire(), self.timeout)
        except asyncio.TimeoutError:
            raise APIError(429, "timed out waiting for a free generation slot; retry later", "rate_limit_error",
                           "rate_limit_exceeded", headers={"Retry-After": "1"}) from None
        finally:
            self.waiting -= 1
        self.active += 1

    def release(self) -> None:
        self.active -= 1
        self.semaphore.release()


def _error_response(error: APIError):
    from fastapi.responses import JSONResponse

    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def _validation_message(exc: ValidationError) -> tuple[str, str | None]:
    first = exc.errors()[0]
    param = ".".join(str(p) for p in first.get("loc", ())) or None
    return f"{param}: {first.get('msg')}" if param else str(first.get("msg")), param


def create_app(generator: Generator, config: ServeConfig, safety: SafetyLayer | None = None):
    """The FastAPI application serving ``generator`` (a loaded model) under ``config``."""
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, StreamingResponse
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
        return {"status": "ok", "model": config.model_id, "generating": s.active, "waiting": s.waiting,
                "max_concurrent": config.max_concurrent, "max_queue": config.max_queue, "served": state["served"]}

    @app.get("/v1/models")
    async def models(request: Request):
        authorise(request)
        return {"object": "list", "data": [
            {"id": config.model_id, "object": "model", "created": created, "owned_by": "medadapt"}]}

    @app.get("/v1/models/{model_id:path}")
    async def model(model_id: str, request: Request):
        authorise(request)
        if model_id != config.model_id:
            raise APIError(404, f"the model {model_id!r} does not exist; this server serves {config.model_id!r}",
                           param="model", code="model_not_found")
        return {"id": config.model_id, "object": "model", "created": created, "owned_by": "medadapt"}

    def parse(body: bytes) -> ChatRequest:
        try:
            raw = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise APIError(400, f"the body is not valid JSON: {exc}", code="invalid_json") from None
        if not isinstance(raw, dict):
            raise APIError(400, "the body must be a JSON object", code="invalid_json")
        try:
            req = ChatRequest.model_validate(raw)
        except ValidationError as exc:
            message, param = _validation_message(exc)
            raise APIError(400, message, param=param, code="invalid_request") from None
        if req.model != config.model_id:
            raise APIError(404, f"the model {req.model!r} does not exist; this server serves {config.model_id!r}",
                           param="model", code="model_not_found")
        if len(req.messages) > config.max_messages:
            raise APIError(400, f"{len(req.messages)} messages; the limit is {config.max_messages}",
                           param="messages", code="too_many_messages")
        if req.tools:
            raise APIError(400, "tools are not supported by this server", param="tools", code="unsupported_parameter")
        if req.messages[-1].role != "user":
            raise APIError(400, "the last message must be the user's", param="messages", code="invalid_request")
        return req

    def plan(req: ChatRequest) -> tuple[list[dict[str, str]], GenParams, list[int]]:
        messages = [{"role": "system" if m.role == "developer" else m.role, "content": m.text()} for m in req.messages]
        if config.system_prompt and messages[0]["role"] != "system":
            messages.insert(0, {"role": "system", "content": config.system_prompt})
        wanted = req.max_completion_tokens or req.max_tokens
        if wanted is not None and wanted > config.max_tokens_limit:
            raise APIError(400, f"max_tokens {wanted} is over this server's limit of {config.max_tokens_limit}",
                           param="max_tokens", code="max_tokens_too_large")
        try:
            prompt_ids = generator.prompt_ids(messages)
        except Exception as exc:  # noqa: BLE001 - e.g. a template that needs alternating roles
            raise APIError(400, f"the model's chat template rejected these messages: {exc}", param="messages",
                           code="invalid_request") from None
        room = generator.context_window - len(prompt_ids)
        if room < 1:
            raise APIError(400, f"the messages take {len(prompt_ids)} tokens; this model's context window is "
                                f"{generator.context_window}", param="messages", code="context_length_exceeded")
        params = GenParams(
            max_new_tokens=min(wanted or config.default_max_tokens, room),
            temperature=config.temperature if req.temperature is None else req.temperature,
            top_p=config.top_p if req.top_p is None else req.top_p,
            repetition_penalty=config.repetition_penalty, stop=list(req.stop or []), seed=req.seed,
        )
        return messages, params, prompt_ids

    def start(messages: list[dict[str, str]], params: GenParams, stop: StopFlag) -> Reply:
        if safety is not None:
            return safety.respond(generator, messages, params, stop)
        generation = generator.stream(messages, params, stop)

        def pieces():
            try:
                yield from generation
            finally:
                generation.close()
                reply.prompt_tokens, reply.completion_tokens = generation.prompt_tokens, generation.completion_tokens
                reply.finish_reason = generation.finish_reason

        reply = Reply(_pieces=pieces())
        return reply

    def usage(reply: Reply) -> dict[str, int]:
        return {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
                "total_tokens": reply.prompt_tokens + reply.completion_tokens}

    def metadata(reply: Reply) -> dict[str, Any]:
        return {"interventions": reply.interventions, "language": reply.lang}

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        authorise(request)
        req = parse(await read_body(request))
        messages, params, _ = plan(req)
        pool = slots()
        await pool.acquire()
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        now = int(time.time())
        stop = StopFlag()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        reply_box: list[Reply] = []

        def work() -> None:  # in a thread: feed pieces to the event loop
            try:
                reply = start(messages, params, stop)
                reply_box.append(reply)
                for piece in reply.pieces():
                    loop.call_soon_threadsafe(queue.put_nowait, ("piece", piece))
                loop.call_soon_threadsafe(queue.put_nowait, ("done", None))
            except BaseException as exc:  # noqa: BLE001 - reported to the request
                loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))

        released = threading.Event()

        def release() -> None:
            if not released.is_set():
                released.set()
                pool.release()
                state["served"] += 1

        worker = threading.Thread(target=work, daemon=True, name="medadapt-request")
        worker.start()

        async def finish() -> None:
            stop.set()
            await asyncio.to_thread(worker.join)
            release()

        if not req.stream:
            try:
                text = []
                while True:
                    kind, value = await queue.get()
                    if kind == "piece":
                        text.append(value)
                    elif kind == "error":
                        raise value
                    else:
                        break
            finally:
                await finish()
            reply = reply_box[0]
            return JSONResponse({
                "id": completion_id, "object": "chat.completion", "created": now, "model": config.model_id,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(text)},
                             "logprobs": None, "finish_reason": reply.finish_reason}],
                "usage": usage(reply), "medadapt": metadata(reply),
            })

        include_usage = bool(req.stream_options and req.stream_options.include_usage)

        def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra) -> str:
            body = {"id": completion_id, "object": "chat.completion.chunk", "created": now, "model": config.model_id,
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}], **extra}
            return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

        async def events():
            try:
                yield chunk({"role": "assistant", "content": ""})
                while True:
                    kind, value = await queue.get()
                    if await request.is_disconnected():
                        log.info("client went away; generation stopped")
                        return
                    if kind == "piece":
                        yield chunk({"content": value})
                    elif kind == "error":
                        log.error("generation failed: %r", value)
                        yield f"data: {json.dumps(APIError(500, f'generation failed: {value}', 'server_error').body())}\n\n"
                        return
                    else:
                        break
                reply = reply_box[0]
                yield chunk({}, reply.finish_reason, medadapt=metadata(reply))
                if include_usage:
                    body = {"id": completion_id, "object": "chat.completion.chunk", "created": now,
                            "model": config.model_id, "choices": [], "usage": usage(reply)}
                    yield f"data: {json.dumps(body)}\n\n"
                yield "data: [DONE]\n\n"
            finally:  # also when the client went away: stop generating, free the slot
                await finish()

        class ClosingStream(StreamingResponse):
            async def __call__(self, scope, receive, send):  # cleanup even when the client vanished mid-send
                try:
                    await super().__call__(scope, receive, send)
                finally:
                    await finish()

        return ClosingStream(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return app


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def run_server(app: Any, host: str, port: int, log_level: str = "info") -> None:
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5)
