package import UploadMockJSON

extension RequestMatch: JSONReadable, JSONWritable {
    package init(json reader: inout JSONReader) throws(ConfigurationError) {
        self.init()
        api = try reader.choice("api")
        method = try reader.string("method")
        path = try reader.string("path")
        command = try reader.choice("command")
        mediaID = try reader.uint64("media_id")
        segmentIndex = try reader.int("segment_index", in: 0...999)
    }

    package var json: JSONValue {
        var object = JSONObject()
        if let api { object["api"] = .string(api.rawValue) }
        if let method { object["method"] = .string(method) }
        if let path { object["path"] = .string(path) }
        if let command { object["command"] = .string(command.rawValue) }
        if let mediaID { object["media_id"] = .string(String(mediaID)) }
        if let segmentIndex { object["segment_index"] = .int(Int64(segmentIndex)) }
        return .object(object)
    }
}
