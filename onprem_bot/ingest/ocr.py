"""OCR of PDF pages: pypdfium2 renders, Tesseract (through pytesseract) reads, a disk cache remembers.

Tesseract is optional at run time (Debian: ``tesseract-ocr`` and ``tesseract-ocr-kor``).
:meth:`TesseractOcr.warm_up` finds the binary and the language data and raises
:class:`OcrUnavailable` naming what is missing. Every page's text is cached under
``<home>/cache/ocr`` keyed by the file's sha256, the page, the languages and the DPI, written
atomically as soon as the page is read: an interrupted 300-page scan resumes at the first page
not yet read, and a re-ingest of an unchanged scan runs Tesseract for no page.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, Final

from onprem_bot.errors import OnpremBotError

DEFAULT_LANG: Final = "kor"
"""Measured on KISA 출장규칙 pp. 2-5 at 300 DPI: CER 3.6% and 15 pages/min with kor, 5.7% and 10 with kor+eng
(eng turns Korean syllables into Latin look-alikes; the kor model reads digits and Latin itself)."""
DEFAULT_DPI: Final = 300
"""Tesseract's own recommendation; Korean 10-point text at 200 DPI loses strokes of small syllables."""
DEFAULT_PSM: Final = 6
"""Page segmentation "one uniform block of text": on a KISA regulation page at 300 DPI it reads the
article text that the default (3, automatic) breaks into fragments."""
MIN_DPI: Final = 72
MAX_DPI: Final = 600
INSTALL_HINT: Final = "sudo apt-get install -y tesseract-ocr tesseract-ocr-kor"

Progress = Callable[[int, int], None]
"""``progress(done, total)`` after each page (cached pages included)."""

_LANG: Final = re.compile(r"^[A-Za-z_]+(?:\+[A-Za-z_]+)*$")


class OcrUnavailable(OnpremBotError):
    """Tesseract or one of its language data files is missing (the message names which)."""


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class TesseractOcr:
    """OCR of PDF pages with Tesseract; ``run`` returns ``{page: text}`` for 1-based pages."""

    def __init__(
        self,
        lang: str = DEFAULT_LANG,
        dpi: int = DEFAULT_DPI,
        tesseract_cmd: str | Path | None = None,
        cache_dir: Path | None = None,
        timeout_s: float = 300.0,
        psm: int = DEFAULT_PSM,
        workers: int | None = None,
    ) -> None:
        if not isinstance(lang, str) or not _LANG.match(lang):
            raise OnpremBotError(f"ocr_lang={lang!r}: 'kor+eng' 같은 Tesseract 언어 코드여야 합니다 (e.g. 'kor+eng')")
        if isinstance(dpi, bool) or not isinstance(dpi, int) or not MIN_DPI <= dpi <= MAX_DPI:
            raise OnpremBotError(f"ocr_dpi={dpi!r}: {MIN_DPI}..{MAX_DPI} 범위의 정수여야 합니다 (integer in range)")
        if timeout_s <= 0:
            raise OnpremBotError(f"OCR timeout_s={timeout_s}: must be > 0")
        if psm not in range(14):
            raise OnpremBotError(f"OCR psm={psm}: Tesseract page segmentation mode 0..13")
        if workers is not None and workers < 1:
            raise OnpremBotError(f"OCR workers={workers}: must be >= 1")
        self.lang = lang
        self.dpi = dpi
        self.tesseract_cmd = str(tesseract_cmd) if tesseract_cmd else "tesseract"
        self.cache_dir = cache_dir
        self.timeout_s = timeout_s
        self.psm = psm
        self.workers = workers or max(1, min(4, os.cpu_count() or 1))
        self.binary = self.tesseract_cmd  # the resolved path once warm_up has found it
        self._ready: str | OcrUnavailable | None = None  # the version, or why OCR cannot run

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages of ``lang``, e.g. ``("kor", "eng")``."""
        return tuple(self.lang.split("+"))

    def warm_up(self) -> str:
        """Find the binary and every language's traineddata; return Tesseract's version.

        Raises :class:`OcrUnavailable` naming the missing binary or language (the result, either
        way, is remembered: a folder of 300 PDFs asks once).
        """
        if isinstance(self._ready, OcrUnavailable):
            raise self._ready
        if self._ready is None:
            try:
                self._ready = self._probe()
            except OcrUnavailable as exc:
                self._ready = exc
                raise
        return self._ready

    def available(self) -> bool:
        """True when :meth:`warm_up` succeeds."""
        try:
            self.warm_up()
        except OcrUnavailable:
            return False
        return True

    def _probe(self) -> str:
        import pytesseract

        binary = shutil.which(self.tesseract_cmd)
        if binary is None:
            raise OcrUnavailable(
                f"Tesseract 실행 파일이 없습니다 (tesseract binary not found: {self.tesseract_cmd}); "
                f"설치: {INSTALL_HINT}"
            )
        pytesseract.pytesseract.tesseract_cmd = binary
        try:
            version = str(pytesseract.get_tesseract_version())
            installed = set(pytesseract.get_languages(config=""))
        except Exception as exc:  # a broken install: TesseractError, OSError, a bad version string
            raise OcrUnavailable(
                f"Tesseract를 실행할 수 없습니다 (cannot run {binary}: {exc}); 설치: {INSTALL_HINT}"
            ) from exc
        missing = [lang for lang in self.languages if lang not in installed]
        if missing:
            packages = " ".join(f"tesseract-ocr-{m.lower().replace('_', '-')}" for m in missing)
            raise OcrUnavailable(
                f"Tesseract 언어 데이터가 없습니다 (missing traineddata: {', '.join(missing)}; "
                f"installed: {', '.join(sorted(installed)) or '-'}); 설치: sudo apt-get install -y {packages}"
            )
        self.binary = binary
        return version

    # -- cache ------------------------------------------------------------------------------

    def cache_path(self, sha256: str, page: int) -> Path | None:
        """Where page ``page`` of the file with this sha256 is cached (None without a cache folder)."""
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(f"{sha256}:{page}:{self.lang}:{self.dpi}".encode()).hexdigest()
        return self.cache_dir / key[:2] / f"{key}.txt"

    def _cached(self, sha256: str, page: int) -> str | None:
        path = self.cache_path(sha256, page)
        if path is None or not path.is_file():
            return None
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):  # a damaged cache file is read again from the PDF
            return None

    def _store(self, sha256: str, page: int, text: str) -> None:
        path = self.cache_path(sha256, page)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ocr-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)  # never half a page in the cache
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # -- OCR --------------------------------------------------------------------------------

    def image_to_text(self, image: Any) -> str:
        """Tesseract on one PIL image (the one place Tesseract runs: tests count calls here)."""
        import pytesseract

        pytesseract.pytesseract.tesseract_cmd = self.binary
        return str(
            pytesseract.image_to_string(image, lang=self.lang, config=f"--psm {self.psm}", timeout=self.timeout_s)
        )

    def render(self, pdf: Any, page: int) -> Any:
        """Page ``page`` (1-based) of an open ``pypdfium2.PdfDocument`` as a grayscale PIL image at ``dpi``."""
        bitmap = pdf[page - 1].render(scale=self.dpi / 72, grayscale=True)
        return bitmap.to_pil()

    def run(self, path: Path, pages: Iterable[int], progress: Progress | None = None) -> dict[int, str]:
        """OCR ``pages`` (1-based) of the PDF at ``path``: cached pages are read, the rest rendered and read.

        Raises :class:`OcrUnavailable` when Tesseract cannot run and :class:`OnpremBotError` for a
        page number outside the document.
        """
        wanted = sorted(set(pages))
        if not wanted:
            return {}
        sha = file_sha256(path)
        texts: dict[int, str] = {}
        todo: list[int] = []
        for page in wanted:
            cached = self._cached(sha, page)
            if cached is None:
                todo.append(page)
            else:
                texts[page] = cached
        done = len(texts)
        if progress:
            progress(done, len(wanted))
        if not todo:
            return texts
        self.warm_up()
        import pypdfium2

        pdf = pypdfium2.PdfDocument(str(path))
        try:
            count = len(pdf)
            outside = [p for p in todo if not 1 <= p <= count]
            if outside:
                raise OnpremBotError(f"{path}: 쪽 번호가 범위를 벗어났습니다 (page {outside[0]} of {count})")
            # One Tesseract process per worker, each single-threaded (OMP_THREAD_LIMIT=1: its OpenMP
            # threads fight each other on few cores); pages are rendered here, one at a time.
            os.environ.setdefault("OMP_THREAD_LIMIT", "1")
            with ThreadPoolExecutor(self.workers) as pool:
                pending: dict[Future[str], int] = {}
                queue = iter(todo)
                while True:
                    while len(pending) < self.workers and (page := next(queue, 0)):
                        pending[pool.submit(self.image_to_text, self.render(pdf, page))] = page
                    if not pending:
                        break
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        page = pending.pop(future)
                        text = future.result()  # an error stops the run; finished pages stay cached
                        self._store(sha, page, text)
                        texts[page] = text
                        done += 1
                        if progress:
                            progress(done, len(wanted))
        finally:
            pdf.close()
        return dict(sorted(texts.items()))


def tqdm_progress(label: str) -> tuple[Progress, Callable[[], None]]:
    """A progress callback drawing a tqdm bar on stderr (only on a terminal) and its closer."""
    from tqdm import tqdm

    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, initial=done, unit="쪽", desc=label, file=sys.stderr, leave=False, disable=None)
        else:
            bar.update(done - bar.n)

    def close() -> None:
        if bar is not None:
            bar.close()

    return progress, close


def ocr_from_settings(settings: Any) -> TesseractOcr | None:
    """The OCR the settings ask for (``None`` for ``ingest.ocr = "off"``), cached under ``<home>/cache/ocr``.

    Nothing runs here: whether Tesseract is installed is found out on the first scanned page.
    """
    ingest = settings.ingest
    if ingest.ocr == "off":
        return None
    return TesseractOcr(ingest.ocr_lang, ingest.ocr_dpi, ingest.tesseract_cmd or None, settings.home / "cache" / "ocr")
