"""The control plane: an integrator.io-shaped JSON API under ``/v1``, Bigin webhooks, metrics.

:func:`build_control_plane` makes the WSGI app ``soapbridge serve`` mounts beside the SOAP
facade. Modules, outside in:

- :mod:`.app`: routing, bearer auth, error envelope, ``/metrics``, ``/healthz``, ``/readyz``;
- :mod:`.integrations`, :mod:`.connections`, :mod:`.jobs`, :mod:`.webhooks`: the handlers;
- :mod:`.documents`: JSON shapes and request checks; :mod:`.openapi`: the OpenAPI document;
- :mod:`.installers`: install steps (verify credentials, create Bigin watch channels) and
  channel renewal; :mod:`.runs`: background runs and webhook pushes;
- :mod:`.wiring`: store rows and the config file to connectors and sync specs;
- :mod:`.metrics`: the REST, sync and webhook metrics and the hooks that feed them;
  :mod:`.web`: HTTP plumbing; :mod:`.cli`: ``soapbridge tokens``.
"""

from bridge.api.app import ControlPlane, build_control_plane

__all__ = ["ControlPlane", "build_control_plane"]
