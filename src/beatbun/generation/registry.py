"""Which music provider makes tracks, chosen by the settings in this one place."""

from __future__ import annotations

from beatbun.generation.composer.provider import Composer
from beatbun.generation.provider import Capabilities, MusicProvider
from beatbun.generation.providers.elevenlabs import ElevenLabsProvider
from beatbun.runtime.base import Fetcher
from beatbun.settings import Settings

# Every provider a track may name, by that name.
CAPABILITIES: dict[str, Capabilities] = {
    Composer.name: Composer.capabilities,
    ElevenLabsProvider.name: ElevenLabsProvider.capabilities,
}


def provider_name(settings: Settings) -> str:
    """ElevenLabs when a key is configured, else the built-in composer, everyone's default."""
    return ElevenLabsProvider.name if settings.elevenlabs_api_key else Composer.name


def provider_capabilities(settings: Settings) -> Capabilities:
    """What the provider `provider_name` names can make."""
    return CAPABILITIES[provider_name(settings)]


def provider_from_settings(settings: Settings, fetcher: Fetcher) -> MusicProvider:
    """The provider `provider_name` names, ready to generate."""
    if provider_name(settings) == Composer.name:
        return Composer()
    return ElevenLabsProvider(
        fetcher,
        api_key=settings.elevenlabs_api_key,
        model_id=settings.elevenlabs_model,
        base_url=settings.elevenlabs_base_url,
    )
