
from fastapi import APIRouter

from entrypoints.api.schemas import HealthOut

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=HealthOut, summary="Liveness: 200 while the process is up")
def health() -> HealthOut:
    return HealthOut(status="ok")
