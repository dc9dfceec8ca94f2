"""dependency-injector's `Provide` marker, made awaitable.

FastAPI calls every `Depends(...)` target; the stock marker is a plain callable, so FastAPI hops to a
worker thread just to get the marker back before `@inject` swaps in the provided object. This
subclass is a coroutine callable: same wiring, no thread hop per request."""

from typing import TYPE_CHECKING

from dependency_injector import wiring

if TYPE_CHECKING:  # the library types its markers as protocol-typed variables, not classes: use them as typed
    Provide = wiring.Provide
else:

    class Provide(wiring.Provide):
        async def __call__(self):
            return self
