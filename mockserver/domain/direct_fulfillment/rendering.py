"""The documents Direct Fulfillment hands out, as real files a client can decode and open: shipping and
container labels as PNG (a 1-bit image with a barcode of the tracking number) or ZPL (Zebra printer
commands), packing slips and customer invoices as one-page PDFs. Content is Base64, as Amazon sends it."""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Iterable

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_LABEL_WIDTH = 400  # pixels (a 4 x 6 inch label at 100 dpi is 400 x 600; the barcode band is what matters)
_LABEL_HEIGHT = 200
_QUIET = 20  # pixels of white before and after the barcode


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def _bars(text: str) -> list[bool]:
    """A barcode-like pattern of the text: each byte as 8 bars (wide or narrow), black and white in turn.
    Not a symbology a scanner reads; the text itself is in the image's tEXt chunk."""
    modules: list[bool] = []
    black = True
    for byte in text.encode():
        for bit in range(8):
            width = 3 if byte >> bit & 1 else 1
            modules.extend([black] * width)
            black = not black
    return modules


def label_png(tracking_number: str, lines: Iterable[str]) -> bytes:
    """A 1-bit grayscale PNG: a white label with a black border and the tracking number's bars; the text
    lines (carrier, ship method, addresses) are in tEXt chunks."""
    bars = _bars(tracking_number)
    width = max(_LABEL_WIDTH, len(bars) + 2 * _QUIET)

    def scanline(pixels: list[int]) -> bytes:
        packed = bytearray()
        for start in range(0, width, 8):
            byte = 0
            for offset, pixel in enumerate(pixels[start : start + 8]):
                byte |= pixel << (7 - offset)
            packed.append(byte)
        return b"\x00" + bytes(packed)  # filter type 0 (none)

    edge = scanline([0] * width)
    blank = scanline([0, 0] + [1] * (width - 4) + [0, 0])
    band_pixels = [0, 0] + [1] * (width - 4) + [0, 0]
    for x, black in enumerate(bars):
        band_pixels[_QUIET + x] = 0 if black else 1
    band = scanline(band_pixels)
    rows = [
        edge if y < 2 or y >= _LABEL_HEIGHT - 2 else band if 60 <= y < 160 else blank
        for y in range(_LABEL_HEIGHT)
    ]
    header = struct.pack(">IIBBBBB", width, _LABEL_HEIGHT, 1, 0, 0, 0, 0)  # 1 bit, grayscale
    text = b"".join(
        _chunk(b"tEXt", key.encode("latin-1") + b"\x00" + value.encode("latin-1", "replace"))
        for key, value in (
            ("Title", f"Shipping label {tracking_number}"),
            *(("Comment", line) for line in lines),
        )
    )
    return (
        _PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + text
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )


def _zpl_text(value: str) -> str:
    """ZPL field data without the characters that start commands."""
    return value.replace("^", " ").replace("~", " ")


def label_zpl(tracking_number: str, lines: Iterable[str]) -> bytes:
    """A ZPL II label: the text lines, then a Code 128 barcode of the tracking number."""
    commands = ["^XA", "^CI28", "^PW812", "^LL1218"]
    y = 40
    for line in lines:
        commands.append(f"^FO40,{y}^A0N,32,32^FD{_zpl_text(line)}^FS")
        y += 44
    commands.append(f"^FO40,{y + 20}^BY3^BCN,160,Y,N,N^FD{_zpl_text(tracking_number)}^FS")
    commands.append("^XZ")
    return ("\n".join(commands) + "\n").encode()


def label(label_format: str, tracking_number: str, lines: Iterable[str]) -> bytes:
    return label_zpl(tracking_number, lines) if label_format == "ZPL" else label_png(tracking_number, lines)


def _pdf_text(value: str) -> str:
    printable = value.encode("latin-1", "replace").decode("latin-1")
    return printable.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf(title: str, lines: Iterable[str]) -> bytes:
    """A one-page PDF 1.4 (Helvetica, A4 portrait) with a title and lines of text, with a valid xref table."""
    text_lines = [f"BT /F1 16 Tf 50 790 Td ({_pdf_text(title)}) Tj ET"]
    y = 760
    for line in lines:
        text_lines.append(f"BT /F1 10 Tf 50 {y} Td ({_pdf_text(line)}) Tj ET")
        y -= 14
        if y < 40:
            break
    stream = "\n".join(text_lines).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Title (" + _pdf_text(title).encode("latin-1") + b") /Producer (vendor-sandbox) >>",
    ]
    output = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(output))
        output += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(output)
    output += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        output += f"{offset:010d} 00000 n \n".encode()
    output += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(output)
