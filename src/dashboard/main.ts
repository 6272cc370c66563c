// placeholder\ndocument.getElementById("app")!.textContent = "Tandem"
