"""Pictures and settings the branding tests share."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile

PIXEL_COLOUR = (10, 124, 102)


def picture(kind: str = "PNG", size: tuple[int, int] = (40, 20)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, PIXEL_COLOUR).save(buffer, format=kind)
    return buffer.getvalue()


def upload(content: bytes, name: str = "logo.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
