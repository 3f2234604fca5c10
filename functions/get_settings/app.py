"""GET /settings: the clinic-wide settings (any authenticated user)."""

from clinic.api import Request, endpoint, ok
from clinic.models.settings import SettingsOut
from clinic.services import clinic_settings


@endpoint("GetSettings", answers=SettingsOut, summary="Read the clinic settings")
def get_settings(request: Request):
    return ok(clinic_settings.get())


lambda_handler = get_settings
