"""The service's URLs plus the baselines each benchmark is compared with: the cheapest
views Django can serve through the same middleware, workers and database."""

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from benchmarks.models import BenchRow


@csrf_exempt
@require_POST
def insert(request):
    BenchRow.objects.create(payload=request.POST.get("payload", "")[:100])
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def hello(request):
    return render(
        request,
        "bench/hello.html",
        {"title": "こんにちは", "items": ["申請", "確認", "完了"]},
    )


def drafts_exhausted(request):
    # The wrk script asks for this when its list of fresh drafts runs out, so reusing a
    # completed draft (which only redirects) can never pass for a filing.
    return HttpResponse("the benchmark ran out of prepared drafts", status=410)


urlpatterns = [
    path("bench/insert/", insert),
    path("bench/hello/", hello),
    path("bench/drafts-exhausted/", drafts_exhausted),
    path("", include("config.urls")),
]
