"""Lambda's control plane, one module per family of operations, under one router. The spec
(`ripple deploy`) and these operations are two doors to the same registry."""

from fastapi import APIRouter

from orchestrator.endpoint.lambda_control import (
    functions_api,
    mappings_api,
    permissions_api,
    settings_api,
    tags_api,
    unsupported,
    urls_api,
    versions_api,
)

router = APIRouter()
router.include_router(functions_api.router)
router.include_router(versions_api.router)
router.include_router(mappings_api.router)
router.include_router(settings_api.router)
router.include_router(tags_api.router)
router.include_router(urls_api.router)
router.include_router(permissions_api.router)
router.include_router(unsupported.router)  # last: what nothing above answers
