"""The invited supplier's actions on an opportunity, under ``/opportunities/``.

The list and the page of one opportunity are shared with the council's
officers (``tenders.urls``); these two are for invited suppliers only.
"""

from django.urls import path

from tenders import supplier_views

urlpatterns = [
    path("<int:pk>/ask/", supplier_views.ask, name="opportunity_ask"),
    path("<int:pk>/intention/", supplier_views.intention, name="opportunity_intention"),
]
