import Testing
@testable import UploadMockForms

@Suite("Form body parser choice")
struct FormBodyParserTests {
    @Test("the media type is read in any case, with spaces, before ';' or ','", arguments: [
        ("multipart/form-data; boundary=b", "multipart"),
        ("Multipart/Form-Data;boundary=b", "multipart"),
        (" multipart/form-data\t, boundary=\"b\"", "multipart"),
        ("application/x-www-form-urlencoded", "urlencoded"),
        ("APPLICATION/X-WWW-FORM-URLENCODED; charset=utf-8", "urlencoded"),
        ("application/json", "ignored"),
        ("multipart/form-dat", "ignored"),
        ("multipart/form-datax; boundary=b", "ignored"),
        ("", "ignored"),
    ])
    func chosen(_ contentType: String, _ expected: String) throws {
        let parser = try FormBodyParser(contentType: contentType)
        let kind = switch parser {
        case .multipart: "multipart"
        case .urlEncoded: "urlencoded"
        case .ignored: "ignored"
        }
        #expect(kind == expected)
    }
}
