from churn.paging import PageRequest

FILE = b"customerID,tenure,Contract\nA,1,Month-to-month\nB,20,One year\nC,oops\n"


def test_importing_the_same_file_twice_changes_nothing(service):
    first = service.import_customers.execute(FILE, "customerID")
    again = service.import_customers.execute(FILE, "customerID")
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert [r.line for r in first.rejected] == [4]


def test_changed_rows_are_counted_as_updated(service):
    service.import_customers.execute(FILE, "customerID")
    report = service.import_customers.execute(b"customerID,tenure,Contract\nA,2,Month-to-month\nD,3,Two year\n", "customerID")
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 0)
    assert service.customers.get("A").attributes["tenure"] == 2.0
    assert service.customers.list(PageRequest(limit=10)).total == 3
